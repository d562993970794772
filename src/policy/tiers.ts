/** A tier name as keys and agents carry it, e.g. `standard`. */
export const TIER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** Requests per minute for one credential; `null` is no limit. */
export type TierLimits = Readonly<Record<string, number | null>>;

/**
 * The built-in tiers, which the policy file's `tiers` override by name. `free` suits a trial or
 * a script (one request a second); `standard` a busy agent polling and sending (20 a second);
 * `unlimited` the relay's own tooling and trusted batch jobs.
 */
export const DEFAULT_TIERS: TierLimits = { free: 60, standard: 1200, unlimited: null };

/** The tier new agents get when registration names none. */
export const DEFAULT_TIER = 'standard';

/**
 * The limit for a tier. A key whose tier the policy file no longer defines is held to `free`, the
 * smallest built-in allowance, rather than let through unlimited.
 */
export function limitOf(tiers: TierLimits, tier: string): number | null {
  if (Object.hasOwn(tiers, tier)) return tiers[tier] ?? null;
  return tiers.free ?? DEFAULT_TIERS.free ?? null;
}
