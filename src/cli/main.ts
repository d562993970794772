import { VERSION } from '../version.js';
import { CliError, type Command, contextFor, helpText, type Io } from './command.js';
import { agentCommands } from './commands/agents.js';
import { browseCommands } from './commands/browse.js';
import { deadLetterCommands } from './commands/dead-letters.js';
import { keyCommands } from './commands/keys.js';
import { mcpCommand } from './commands/mcp.js';
import { messageCommands } from './commands/messages.js';
import { policyCommand } from './commands/policy.js';
import { serveCommand } from './commands/serve.js';
import { statsCommand } from './commands/stats.js';
import { tailCommand } from './commands/tail.js';

export const COMMANDS: Command[] = [
  serveCommand,
  ...agentCommands,
  ...keyCommands,
  ...messageCommands,
  ...browseCommands,
  ...deadLetterCommands,
  tailCommand,
  statsCommand,
  policyCommand,
  mcpCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `admp ${VERSION}: the ADMP relay's command line\n`,
    'Usage: admp <command> [options]    admp <command> --help\n',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    '',
    'Every command that talks to a relay takes --url (ADMP_URL, default http://localhost:3030),',
    '--api-key (ADMP_API_KEY) and --agent (ADMP_AGENT_ID). Errors print one line and exit 1',
    '(2 for a mistake in the command line). Docs: docs/cli.md.',
    '',
  ].join('\n');
}

/** Finds the command named by the first one or two words of argv. */
function find(argv: string[]): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : undefined;
}

/** Runs one command line; resolves to the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout(overview());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const found = find(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0) {
      io.stderr(`admp ${first} needs a subcommand: ${group.map((c) => c.name.split(' ')[1]).join(', ')}\n`);
    } else {
      io.stderr(`admp: unknown command ${first} (see admp --help)\n`);
    }
    return 2;
  }
  try {
    const context = contextFor(found.command, found.rest, io);
    if (context === 'help') {
      io.stdout(helpText(found.command));
      return 0;
    }
    await found.command.run(context);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`admp: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
