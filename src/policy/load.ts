import { parse } from 'yaml';
import { policyFileSchema } from './schema.js';
import { DEFAULT_TIERS, type TierLimits } from './tiers.js';

/** The rules in force; entries read it per request, so a reload only has to swap the object. */
export interface Policy {
  tiers: TierLimits;
}

export class PolicyError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid policy file:\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyError';
  }
}

export const defaultPolicy = (): Policy => ({ tiers: { ...DEFAULT_TIERS } });

/**
 * Parses the policy file's text (the entry reads the file: core modules touch no file system).
 * Every problem is reported at once, as config.ts does for the environment.
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
    throw new PolicyError(parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`));
  }
  const tiers = Object.fromEntries(
    Object.entries(parsed.data.tiers ?? {}).map(([name, t]) => [name, t.requests_per_minute]),
  );
  return { tiers: { ...DEFAULT_TIERS, ...tiers } };
}
