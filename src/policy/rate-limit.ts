import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';

export interface HourlySlot {
  admitted: boolean;
  /** Seconds until the oldest counted message leaves the window: the Retry-After of a refusal. */
  retryAfterSec: number;
}

/**
 * FR-33's sliding window, exact across relay processes: each (rule, sender) row keeps the times
 * of the messages it admitted in the last hour. ON CONFLICT DO UPDATE locks that row and
 * evaluates its WHERE against the latest committed version, so concurrent senders on any process
 * queue on the row and never both take the last slot. The row grows with the limit (eight bytes
 * a message), which is why rules cap `rate_limit_per_hour` at 100,000.
 */
export async function takeHourlySlot(
  db: Db,
  rule: string,
  agentId: string,
  limit: number,
): Promise<HourlySlot> {
  const row = await firstRow<{ admitted: boolean; retry_after_sec: number | null }>(
    db,
    sql`
      with taken as (
        insert into policy_rate as r (policy_name, agent_id, hits) values (${rule}, ${agentId}, array[now()])
        on conflict (policy_name, agent_id) do update
          set hits = array(select h from unnest(r.hits) h where h > now() - interval '1 hour' order by h) || now()
          where (select count(*) from unnest(r.hits) h where h > now() - interval '1 hour') < ${limit}
        returning 1
      )
      select exists (select 1 from taken) as admitted,
        (select ceil(extract(epoch from min(h) + interval '1 hour' - now()))::int
           from policy_rate, unnest(hits) h
           where policy_name = ${rule} and agent_id = ${agentId} and h > now() - interval '1 hour') as retry_after_sec`,
  );
  return { admitted: row?.admitted === true, retryAfterSec: Math.max(1, Number(row?.retry_after_sec ?? 1)) };
}

/** Forgets senders with nothing in their window; run with the TTL sweep. */
export async function purgeHourlySlots(db: Db): Promise<void> {
  await db.execute(sql`delete from policy_rate where hits[cardinality(hits)] < now() - interval '1 hour'`);
}
