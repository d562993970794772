import { sql } from 'drizzle-orm';
import { type Db, firstRow, isoOrNull, rows } from '../db/database.js';
import type { MessageState } from '../message-states.js';
import type { InboxGauge } from '../observe/metrics.js';

export interface MessageStatus {
  id: string;
  status: MessageState;
  from: string;
  to: string;
  attempts: number;
  created_at: string;
  lease_until: string | null;
  acked_at: string | null;
  last_error: string | null;
  available_at: string;
}

/** FR-10. The caller decides who may see it; this only looks it up. */
export async function messageStatus(db: Db, messageId: string): Promise<MessageStatus | undefined> {
  const row = await firstRow<{
    id: string;
    status: MessageState;
    from_agent_id: string;
    to_agent_id: string;
    attempts: number;
    created_at: Date | string;
    lease_until: Date | string | null;
    acked_at: Date | string | null;
    last_error: string | null;
    available_at: Date | string;
  }>(
    db,
    sql`select id, status, from_agent_id, to_agent_id, attempts, created_at, lease_until, acked_at, last_error,
          available_at from message where id = ${messageId.toLowerCase()}`,
  );
  if (!row) return undefined;
  return {
    id: row.id,
    status: row.status,
    from: `agent://${row.from_agent_id}`,
    to: `agent://${row.to_agent_id}`,
    attempts: row.attempts,
    created_at: isoOrNull(row.created_at) as string,
    lease_until: isoOrNull(row.lease_until),
    acked_at: isoOrNull(row.acked_at),
    last_error: row.last_error,
    available_at: isoOrNull(row.available_at) as string,
  };
}

export interface InboxStats {
  ready: number;
  leased: number;
  dead: number;
  oldest_age_sec: number;
}

/**
 * FR-11. A lease that has run out counts as ready, as PULL sees it; a delayed message not before
 * its `available_at`. `oldest_age_sec` is the age
 * of the oldest message not yet settled, 0 for an empty inbox.
 */
export async function inboxStats(db: Db, agentId: string): Promise<InboxStats> {
  const row = await firstRow<Record<keyof InboxStats, string | number>>(
    db,
    // Live and dead rows are counted apart, each through its own partial index, so history is never read.
    sql`with live as (
          select count(*) filter (where case when status = 'delivered' then available_at <= now()
              else lease_until <= now() end) as ready,
            count(*) filter (where status = 'leased' and lease_until > now()) as leased,
            min(created_at) as oldest
          from message where to_agent_id = ${agentId} and status in ('delivered', 'leased')
        )
        select ready, leased,
          (select count(*) from message where to_agent_id = ${agentId} and status = 'dead') as dead,
          coalesce(floor(extract(epoch from now() - oldest)), 0) as oldest_age_sec
        from live`,
  );
  return {
    ready: Number(row?.ready ?? 0),
    leased: Number(row?.leased ?? 0),
    dead: Number(row?.dead ?? 0),
    oldest_age_sec: Number(row?.oldest_age_sec ?? 0),
  };
}

/**
 * Every inbox's depth by state and the age of its oldest message, for the metrics endpoint.
 * Acked rows are outside both filters, so the partial indexes serve it however long the history.
 */
export async function inboxGauges(db: Db): Promise<InboxGauge[]> {
  const found = await rows<{
    to_agent_id: string;
    status: InboxGauge['status'];
    count: number | string;
    age: number | string;
  }>(
    db,
    sql`select to_agent_id, status, count(*) as count, extract(epoch from now() - min(created_at))::float8 as age
        from message where status in ('delivered', 'leased') group by to_agent_id, status
        union all
        select to_agent_id, status, count(*), extract(epoch from now() - min(created_at))::float8
        from message where status = 'dead' group by to_agent_id, status`,
  );
  return found.map((r) => ({
    agentId: r.to_agent_id,
    status: r.status,
    count: Number(r.count),
    oldestAgeSec: Number(r.age),
  }));
}
