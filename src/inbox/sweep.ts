import { type SQL, sql } from 'drizzle-orm';
import { type Db, rows } from '../db/database.js';

// Every relay process runs the sweeps; a transaction-scoped advisory lock lets one of them do
// each pass while the others skip it. Taking the lock inside the statement itself keeps a sweep
// to one round trip on every driver, Neon's HTTP one included.
const SWEEP_LOCK = 0x61646d71;
const BATCH = 1000;

// A process leads a pass when it gets the lock; as an uncorrelated subquery, PostgreSQL evaluates it once
// per statement (an InitPlan) and a process that does not lead skips the scan.
const IS_LEADER = sql`(select pg_try_advisory_xact_lock(${SWEEP_LOCK}))`;

// What a batch changes is picked in a materialized CTE, so the pick runs exactly once. As a subquery of
// UPDATE … FROM the planner may rescan it (the inner side of a nested loop, chosen when the statistics
// call the table tiny); each rescan skips the rows the statement already changed and picks more, so
// LIMIT would not bound the batch, and the scans would multiply (the same plan made one PULL lease a
// whole inbox: see LEASE).

/**
 * Expired leases go back to their inbox with one more attempt, or to the dead letters (FR-21): of every
 * inbox by the leading process (`IS_LEADER`), or of the inbox its scope names.
 */
const reclaimExpiredSql = (scope: SQL) => sql`
  with expired as materialized (
    select id from message
    where status = 'leased' and lease_until < now() and ${scope}
    order by lease_until
    limit ${BATCH}
    for update skip locked
  )
  update message m set
    attempts = m.attempts + 1,
    status = case when m.attempts + 1 >= m.max_attempts then 'dead'::message_status else 'delivered' end,
    last_error = case when m.attempts + 1 >= m.max_attempts then 'Max attempts exceeded' else 'Lease expired' end,
    finished_at = case when m.attempts + 1 >= m.max_attempts then now() end,
    lease_id = null, lease_until = null
  from expired
  where m.id = expired.id
  returning m.id, m.to_agent_id, m.status, m.attempts`;

const expireTtlSql = sql`
  with expired as materialized (
    select id from message
    where status in ('delivered', 'leased') and expires_at < now() and ${IS_LEADER}
    limit ${BATCH}
    for update skip locked
  )
  update message m set status = 'dead', last_error = 'TTL expired', finished_at = now(), lease_id = null,
    lease_until = null
  from expired
  where m.id = expired.id
  returning m.id, m.to_agent_id, m.status, m.attempts`;

export interface SweptMessage {
  id: string;
  to_agent_id: string;
  status: 'delivered' | 'dead';
  attempts: number;
}

/** Runs batches until one comes back short, so a backlog drains in one pass without one huge statement. */
async function drain<T>(db: Db, statement: SQL): Promise<T[]> {
  const all: T[] = [];
  for (;;) {
    const batch = await rows<T>(db, statement);
    all.push(...batch);
    if (batch.length < BATCH) return all;
  }
}

export const reclaimExpired = (db: Db) => drain<SweptMessage>(db, reclaimExpiredSql(IS_LEADER));

/** RECLAIM for one inbox (FR-12): no leader needed, the caller asked for it. */
export const reclaimInbox = (db: Db, agentId: string) =>
  drain<SweptMessage>(db, reclaimExpiredSql(sql`to_agent_id = ${agentId}`));

export const expireTtl = (db: Db) => drain<SweptMessage>(db, expireTtlSql);

/** Deletes the rows of `table` whose `column` is older than the retention; a retention of 0 keeps them all. */
const purgeOlderThan = (table: string, column: string) => (db: Db, retentionSec: number) =>
  retentionSec > 0
    ? drain<{ id: string }>(
        db,
        sql`
          with old as materialized (
            select id from ${sql.identifier(table)}
            where ${sql.identifier(column)} < now() - make_interval(secs => ${retentionSec}) and ${IS_LEADER}
            limit ${BATCH}
            for update skip locked
          )
          delete from ${sql.identifier(table)} t
          using old
          where t.id = old.id
          returning t.id`,
      )
    : Promise.resolve([]);

/** Finished messages past MESSAGE_RETENTION_SEC. */
export const purgeFinished = purgeOlderThan('message', 'finished_at');

/** audit_log rows past AUDIT_RETENTION_SEC. */
export const purgeAudit = purgeOlderThan('audit_log', 'at');
