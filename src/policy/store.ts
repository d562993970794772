import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';
import { policy as policyTable, policyTier } from '../db/schema.js';
import { errorText } from '../observe/error-text.js';
import type { Logger } from '../observe/logger.js';
import { createPolicy, type Policy, PolicyError } from './load.js';
import { type Rule, ruleSchema } from './schema.js';

/**
 * The rules in force live in the `policy` and `policy_tier` tables, so every relay process and
 * every Workers isolate enforces the same ones. A process with POLICY_FILE publishes the file
 * there at start and on SIGHUP; every process reads the tables back on a timer. Empty tables mean
 * the built-in defaults.
 */
export async function publishPolicy(db: Db, policy: Policy): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(policyTable);
    await tx.delete(policyTier);
    if (policy.written.length > 0) {
      await tx.insert(policyTable).values(
        policy.written.map((rule) => ({
          name: rule.name,
          enabled: rule.enabled,
          priority: rule.priority,
          fromAgentPattern: rule.from_agent_pattern ?? null,
          toAgentPattern: rule.to_agent_pattern ?? null,
          typePattern: rule.type_pattern ?? null,
          subjectPattern: rule.subject_pattern ?? null,
          action: rule.action,
          rateLimitPerHour: rule.rate_limit_per_hour ?? null,
          maxSizeKb: rule.max_size_kb ?? null,
        })),
      );
    }
    const tiers = Object.entries(policy.tiers).map(([name, limit]) => ({ name, requestsPerMinute: limit }));
    if (tiers.length > 0) await tx.insert(policyTier).values(tiers);
  });
}

type StoredRule = { [K in keyof Rule]-?: Rule[K] | null };

/** The published policy, read in one statement so rules and tiers come from one snapshot. */
export async function readStoredPolicy(db: Db): Promise<Policy> {
  const row = await firstRow<{
    rules: StoredRule[] | null;
    tiers: { name: string; limit: number | null }[] | null;
  }>(
    db,
    sql`select
      (select json_agg(json_build_object('name', name, 'enabled', enabled, 'priority', priority,
         'from_agent_pattern', from_agent_pattern, 'to_agent_pattern', to_agent_pattern,
         'type_pattern', type_pattern, 'subject_pattern', subject_pattern, 'action', action,
         'rate_limit_per_hour', rate_limit_per_hour, 'max_size_kb', max_size_kb) order by priority, name)
       from policy) as rules,
      (select json_agg(json_build_object('name', name, 'limit', requests_per_minute)) from policy_tier) as tiers`,
  );
  const problems: string[] = [];
  const rules = (row?.rules ?? []).flatMap((stored) => {
    const present = Object.fromEntries(Object.entries(stored).filter(([, v]) => v !== null));
    const parsed = ruleSchema.safeParse(present);
    if (parsed.success) return [parsed.data];
    problems.push(
      `policy row ${stored.name}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
    return [];
  });
  // A row edited by hand into nonsense must not silently drop a deny rule: refuse the whole set.
  if (problems.length) throw new PolicyError(problems);
  const tiers = Object.fromEntries((row?.tiers ?? []).map((t) => [t.name, t.limit]));
  return createPolicy(tiers, rules);
}

/** A policy's identity for change detection: its rules as written and its tiers. */
export const policyIdentity = (policy: Policy) => JSON.stringify([policy.written, policy.tiers]);

/**
 * Keeps `target.policy` in step with the tables. The first `refresh` is awaited by whoever needs
 * a policy before serving; later ones run at most once per `intervalMs`, and a failed read keeps
 * the rules already in force.
 */
export class PolicyRefresher {
  private lastRead = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  private loaded = false;

  constructor(
    private readonly target: { policy: Policy; db: Db; logger: Logger },
    private readonly intervalMs: number,
  ) {}

  /** Resolves once a policy has been read at least once; a later call may start a background read. */
  ensure(now: number): { ready: Promise<void>; background: Promise<void> | undefined } {
    if (!this.loaded) {
      const first = this.refresh(now);
      return { ready: first, background: undefined };
    }
    if (now - this.lastRead < this.intervalMs) return { ready: Promise.resolve(), background: undefined };
    return { ready: Promise.resolve(), background: this.refresh(now) };
  }

  refresh(now: number): Promise<void> {
    this.running ??= this.read(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async read(now: number): Promise<void> {
    try {
      const stored = await readStoredPolicy(this.target.db);
      if (policyIdentity(stored) !== policyIdentity(this.target.policy)) {
        this.target.policy = stored;
        if (this.loaded)
          this.target.logger.info({ rules: stored.written.length }, 'policy updated from the database');
      }
      this.loaded = true;
      this.lastRead = now;
    } catch (error) {
      this.target.logger.error({ err: errorText(error) }, 'policy read failed; keeping the rules in force');
      if (!this.loaded) throw error;
    }
  }
}
