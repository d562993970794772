import { parse } from 'yaml';
import { DEFAULT_PRIORITY, policyFileSchema, type Rule } from './schema.js';
import { DEFAULT_TIERS, type TierLimits } from './tiers.js';

/** What a rule is matched against: the bare agent ids, and the body's serialized size. */
export interface PolicySubject {
  from: string;
  to: string;
  type: string;
  subject: string;
  sizeBytes: number;
}

export interface CompiledRule extends Rule {
  matches(subject: PolicySubject): boolean;
  /** Whether the rule's agent patterns match, whatever the message. */
  matchesAgents(from: string, to: string): boolean;
}

/** The rules in force; entries read it per request, so a reload only has to swap the object. */
export interface Policy {
  tiers: TierLimits;
  /** Enabled rules in evaluation order, ending with the built-in allow-all. */
  rules: readonly CompiledRule[];
  /** Every rule as written, disabled ones included: what the `policy` table stores. */
  written: readonly Rule[];
}

export class PolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid policy file:\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyError';
  }
}

/** FR-31: what applies when no rule matches, and all there is without a policy file. */
export const DEFAULT_RULE: Rule = {
  name: 'default',
  enabled: true,
  priority: DEFAULT_PRIORITY,
  action: 'allow',
};

function compile(rule: Rule): CompiledRule {
  const test = (source: string | undefined) => {
    if (source === undefined) return () => true;
    const re = new RegExp(source, 'u');
    return (value: string) => re.test(value);
  };
  const from = test(rule.from_agent_pattern);
  const to = test(rule.to_agent_pattern);
  const type = test(rule.type_pattern);
  const subject = test(rule.subject_pattern);
  return {
    ...rule,
    matches: (s) => from(s.from) && to(s.to) && type(s.type) && subject(s.subject),
    matchesAgents: (f, t) => from(f) && to(t),
  };
}

/**
 * A policy from its parts. Lowest priority first, and rules of equal priority by name: an order
 * the `policy` table can hold, so a published policy reads back exactly as it was written. The
 * built-in default comes after every rule, at 999 included.
 */
export function createPolicy(tiers: Record<string, number | null>, written: readonly Rule[]): Policy {
  const ordered = [...written].sort(
    (a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return {
    tiers: { ...DEFAULT_TIERS, ...tiers },
    rules: [...ordered.filter((rule) => rule.enabled), DEFAULT_RULE].map(compile),
    written: ordered,
  };
}

export const defaultPolicy = (): Policy => createPolicy({}, []);

/**
 * Parses the policy file's text (the entry reads the file: core modules touch no file system).
 * Every problem is reported at once, each with the field at fault, as config.ts does for the
 * environment.
 */
export function parsePolicy(text: string): Policy {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new PolicyError([`not valid YAML: ${error instanceof Error ? error.message : String(error)}`]);
  }
  const parsed = policyFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.map((i) => `${describePath(i.path, raw)}: ${i.message}`));
  }
  const tiers = Object.fromEntries(
    Object.entries(parsed.data.tiers ?? {}).map(([name, t]) => [name, t.requests_per_minute]),
  );
  return createPolicy(tiers, parsed.data.policies ?? []);
}

/** `policies[2] (deny-all).priority` reads better than `policies.2.priority`. */
function describePath(path: PropertyKey[], raw: unknown): string {
  if (path.length === 0) return 'file';
  let text = '';
  let node: unknown = raw;
  for (const key of path) {
    node =
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    if (typeof key === 'number') {
      const name = (node as { name?: unknown } | undefined)?.name;
      text += typeof name === 'string' ? `[${key}] (${name})` : `[${key}]`;
    } else {
      text += text ? `.${String(key)}` : String(key);
    }
  }
  return text;
}
