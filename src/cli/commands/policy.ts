import { PolicyError, parsePolicy } from '../../policy/load.js';
import { CliError, type Command } from '../command.js';

export const policyCommand: Command = {
  name: 'policy check',
  summary: 'Check a policy file (POLICY_FILE) the way the relay reads it, reporting every problem',
  args: ['<file>'],
  details:
    'Exits 0 and prints the rule count and the tiers in force when the file is valid; otherwise prints\n' +
    'one line per problem, `<file>: <field>: <problem>`, and exits 1. Nothing is sent to a relay.',
  async run(c) {
    const file = c.args[0] as string;
    let text: string;
    try {
      text = c.readText(file);
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
    }
    try {
      const policy = parsePolicy(text);
      const tiers = Object.entries(policy.tiers)
        .map(([name, limit]) => `${name} ${limit === null ? 'unlimited' : `${limit}/min`}`)
        .join(', ');
      const enabled = policy.written.filter((rule) => rule.enabled).length;
      const rules = `${policy.written.length} rule${policy.written.length === 1 ? '' : 's'}, ${enabled} enabled`;
      c.out(`${file}: ok (${rules}; tiers: ${tiers})`);
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      for (const problem of error.problems) c.out(`${file}: ${problem}`);
      const count = error.problems.length;
      throw new CliError(`${file}: ${count} problem${count === 1 ? '' : 's'}`);
    }
  },
};
