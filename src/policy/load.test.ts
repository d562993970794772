import { describe, expect, it } from 'vitest';
import { defaultPolicy, PolicyError, parsePolicy } from './load.js';
import { limitOf } from './tiers.js';

describe('the policy file', () => {
  it('has free, standard and unlimited tiers by default', () => {
    expect(defaultPolicy().tiers).toEqual({ free: 60, standard: 1200, unlimited: null });
  });

  it('overrides tiers by name, adds new ones and keeps the rest', () => {
    const policy = parsePolicy(
      'tiers:\n  free: { requests_per_minute: 10 }\n  gold: { requests_per_minute: 5000 }\n',
    );
    expect(policy.tiers).toEqual({ free: 10, standard: 1200, unlimited: null, gold: 5000 });
  });

  it('tolerates the policies section the policy engine reads', () => {
    const text =
      'tiers:\n  free: { requests_per_minute: 1 }\npolicies:\n  - name: deny-all\n    action: deny\n';
    expect(parsePolicy(text).tiers.free).toBe(1);
    expect(parsePolicy('').tiers).toEqual(defaultPolicy().tiers);
  });

  it('lists every problem at once', () => {
    const text =
      'tier: {}\ntiers:\n  Gold: { requests_per_minute: 1 }\n  free: { requests_per_minute: -1 }\n';
    const error = (() => {
      try {
        parsePolicy(text);
      } catch (e) {
        return e;
      }
    })() as PolicyError;
    expect(error).toBeInstanceOf(PolicyError);
    expect(error.problems).toHaveLength(3);
    expect(error.message).toContain('tiers.free.requests_per_minute');
  });

  it('refuses text that is not YAML', () => {
    expect(() => parsePolicy('tiers: [unclosed')).toThrow(PolicyError);
  });

  it('holds a tier the file no longer defines to the free limit', () => {
    expect(limitOf({ free: 7, standard: 100 }, 'retired')).toBe(7);
    expect(limitOf({ standard: 100 }, 'retired')).toBe(60);
    expect(limitOf({ unlimited: null }, 'unlimited')).toBeNull();
  });
});

describe('the shipped policy files', () => {
  const files = [
    'policies/default.yaml',
    'policies/examples/default-deny.yaml',
    'policies/examples/team-rate-limits.yaml',
  ];
  for (const file of files) {
    it(`${file} parses`, async () => {
      const { readFileSync } = await import('node:fs');
      expect(parsePolicy(readFileSync(file, 'utf8')).rules.length).toBeGreaterThan(0);
    });
  }

  it('default.yaml is the built-in defaults written out', async () => {
    const { readFileSync } = await import('node:fs');
    const policy = parsePolicy(readFileSync('policies/default.yaml', 'utf8'));
    expect(policy.tiers).toEqual(defaultPolicy().tiers);
    expect(
      policy.rules.every((rule) => rule.action === 'allow' && rule.from_agent_pattern === undefined),
    ).toBe(true);
  });
});
