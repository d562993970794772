import { describe, expect, it } from 'vitest';
import { firstMatch, mayReach } from './evaluate.js';
import { PolicyError, type PolicySubject, parsePolicy } from './load.js';

const subject = (over: Partial<PolicySubject> = {}): PolicySubject => ({
  from: 'auth.backend',
  to: 'billing.api',
  type: 'task.request',
  subject: 'create_user',
  sizeBytes: 10,
  ...over,
});

const rules = (yaml: string) => parsePolicy(`policies:\n${yaml}`);
const matchName = (yaml: string, over: Partial<PolicySubject> = {}) =>
  firstMatch(rules(yaml), subject(over)).name;

describe('policy evaluation', () => {
  it('allows everything with the built-in default at priority 999 when there are no rules', () => {
    const rule = firstMatch(parsePolicy(''), subject());
    expect(rule).toMatchObject({ name: 'default', priority: 999, action: 'allow' });
  });

  it('matches each pattern field against its own part of the message', () => {
    const only = (field: string, pattern: string) =>
      `  - { name: r, action: deny, ${field}: '${pattern}' }\n`;
    expect(matchName(only('from_agent_pattern', '^auth\\.'))).toBe('r');
    expect(matchName(only('from_agent_pattern', '^billing\\.'))).toBe('default');
    expect(matchName(only('to_agent_pattern', '^billing\\.'))).toBe('r');
    expect(matchName(only('to_agent_pattern', '^auth\\.'))).toBe('default');
    expect(matchName(only('type_pattern', '^task\\.request$'))).toBe('r');
    expect(matchName(only('type_pattern', '^event$'))).toBe('default');
    expect(matchName(only('subject_pattern', '^(create|update|delete)_user$'))).toBe('r');
    expect(matchName(only('subject_pattern', '^create_order$'))).toBe('default');
  });

  it('needs every given pattern to match, and treats a missing one as matching anything', () => {
    const yaml = "  - { name: both, action: deny, from_agent_pattern: '^auth\\.', subject_pattern: '^x$' }\n";
    expect(matchName(yaml)).toBe('default');
    expect(matchName(yaml, { subject: 'x' })).toBe('both');
  });

  it('matches patterns against the bare agent id, unanchored unless anchored', () => {
    expect(matchName("  - { name: r, action: deny, to_agent_pattern: 'api' }\n")).toBe('r');
    expect(matchName("  - { name: r, action: deny, to_agent_pattern: '^agent://' }\n")).toBe('default');
  });

  it('evaluates the lowest priority number first, whatever the order in the file', () => {
    const yaml =
      '  - { name: late, priority: 50, action: allow }\n' +
      '  - { name: early, priority: 10, action: deny }\n' +
      '  - { name: middle, priority: 20, action: allow }\n';
    expect(matchName(yaml)).toBe('early');
    expect(rules(yaml).rules.map((r) => r.name)).toEqual(['early', 'middle', 'late', 'default']);
  });

  it('stops at the first match, and orders rules of equal priority by name', () => {
    const yaml =
      "  - { name: first, priority: 10, action: allow, to_agent_pattern: '^billing' }\n" +
      '  - { name: second, priority: 10, action: deny }\n';
    expect(matchName(yaml)).toBe('first');
    expect(matchName(yaml, { to: 'storage.pg' })).toBe('second');
    const reversed =
      '  - { name: b, priority: 10, action: deny }\n  - { name: a, priority: 10, action: allow }\n';
    expect(matchName(reversed)).toBe('a');
  });

  it('skips disabled rules and defaults priority to 100 and enabled to true', () => {
    const yaml =
      '  - { name: off, priority: 1, enabled: false, action: deny }\n' +
      '  - { name: defaults, action: deny }\n' +
      '  - { name: later, priority: 101, action: allow }\n';
    expect(matchName(yaml)).toBe('defaults');
    expect(rules(yaml).written.find((r) => r.name === 'defaults')).toMatchObject({
      priority: 100,
      enabled: true,
    });
  });

  it('puts the built-in default after a file rule of priority 999', () => {
    expect(matchName('  - { name: deny-rest, priority: 999, action: deny }\n')).toBe('deny-rest');
  });

  it('carries rate_limit_per_hour and max_size_kb on the matching rule', () => {
    const rule = firstMatch(
      rules('  - { name: r, action: allow, rate_limit_per_hour: 5, max_size_kb: 2 }\n'),
      subject(),
    );
    expect(rule).toMatchObject({ rate_limit_per_hour: 5, max_size_kb: 2 });
  });
});

describe('a policy file that is wrong', () => {
  const problems = (yaml: string) => {
    try {
      parsePolicy(yaml);
    } catch (error) {
      if (error instanceof PolicyError) return error.problems;
      throw error;
    }
    throw new Error('expected a PolicyError');
  };

  it('names the rule and the field at fault, for every problem at once', () => {
    const found = problems(
      'policies:\n' +
        '  - { name: ok, action: allow }\n' +
        "  - { name: bad-regex, action: deny, subject_pattern: '(' }\n" +
        '  - { name: bad-action, action: maybe, priority: 1000 }\n' +
        '  - { action: allow }\n',
    );
    expect(found).toEqual([
      expect.stringMatching(
        /^policies\[1\] \(bad-regex\)\.subject_pattern: must be a valid regular expression/,
      ),
      expect.stringMatching(/^policies\[2\] \(bad-action\)\.priority: /),
      expect.stringMatching(/^policies\[2\] \(bad-action\)\.action: /),
      expect.stringMatching(/^policies\[3\]\.name: /),
    ]);
  });

  it('refuses unknown fields, duplicate names, and limits that are not positive integers', () => {
    expect(problems('policies:\n  - { name: r, action: allow, max_size: 3 }\n')[0]).toMatch(
      /policies\[0\] \(r\)/,
    );
    expect(problems('policies:\n  - { name: r, action: allow }\n  - { name: r, action: deny }\n')[0]).toMatch(
      /policies\[1\] \(r\)\.name: duplicate rule name r/,
    );
    expect(problems('policies:\n  - { name: r, action: allow, rate_limit_per_hour: 0 }\n')[0]).toMatch(
      /rate_limit_per_hour/,
    );
    expect(problems('policies:\n  - { name: r, action: allow, max_size_kb: 1.5 }\n')[0]).toMatch(
      /max_size_kb/,
    );
    expect(problems('policies: {}\n')[0]).toMatch(/^policies: /);
  });
});

describe('who an agent may reach, for discovery', () => {
  const policy = rules(`
  - { name: no-results, priority: 1, from_agent_pattern: '^a$', to_agent_pattern: '^b$', type_pattern: 'task\\.result', action: deny }
  - { name: a-to-c, priority: 2, from_agent_pattern: '^a$', to_agent_pattern: '^c$', action: deny }
  - { name: only-events, priority: 3, from_agent_pattern: '^a$', to_agent_pattern: '^d$', type_pattern: '^event$', action: allow }
  - { name: a-nowhere-else, priority: 4, from_agent_pattern: '^a$', to_agent_pattern: '^[de]$', action: deny }
`);

  it('lists a recipient some message may reach, and not one every message to is denied', () => {
    expect(mayReach(policy, 'a', 'b'), 'a deny of some types leaves the rest to later rules').toBe(true);
    expect(mayReach(policy, 'a', 'c')).toBe(false);
    expect(mayReach(policy, 'a', 'd'), 'an allow of some types is reach').toBe(true);
    expect(mayReach(policy, 'a', 'e')).toBe(false);
    expect(mayReach(policy, 'x', 'c'), 'the default allows').toBe(true);
  });
});
