import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import { observe } from '../observe/events.js';
import type { Outcome } from './group-commit.js';
import type { Origin } from './operation.js';

export interface LeaseRef {
  agentId: string;
  messageId: string;
  /** When given, only this lease may settle the message: a stale holder's lease_id no longer matches. */
  leaseId?: string | undefined;
}

export interface AckRef extends LeaseRef, Origin {
  via: 'ack' | 'push';
}

/** How long an acked message was held, and how long it took from SEND to ACK (FR-37). */
export interface AckTimes {
  leaseSec: number | null;
  deliverySec: number;
}

/** Seconds since the lease began and since the message was stored, as the ACK sees them. */
export const SETTLE_TIMES =
  'extract(epoch from now() - m.leased_at)::float8 as lease_sec, ' +
  'extract(epoch from now() - m.created_at)::float8 as delivery_sec';

// `status::text` on purpose: compared as text, the state cannot match the partial indexes'
// predicates, so the planner finds each row by its primary key instead of walking an inbox's
// live messages (which cost more the longer the backlog). Every settle statement does the same.
const ACK = statement(
  'admp_ack',
  `update message m set status = 'acked', acked_at = now(), finished_at = now(), lease_until = null
   from unnest($1::text[], $2::text[], $3::uuid[]) with ordinality as r(id, agent_id, lease_id, n)
   where m.id = r.id and m.to_agent_id = r.agent_id and m.status::text = 'leased' and m.lease_until > now()
     and (r.lease_id is null or m.lease_id = r.lease_id)
   returning r.n, ${SETTLE_TIMES}`,
  { durable: false },
);

/** ACK of one message: concurrent ACKs from anywhere go to the database as one statement. */
export function ack(deps: Deps, ref: AckRef): Promise<AckTimes> {
  return deps.groupCommit.submit('ack', ref, (refs) => ackBatch(deps, refs));
}

/** ACK batch: each ref is acked, or fails alone with 404 when it holds no current lease. */
export async function ackBatch(deps: Deps, refs: AckRef[]): Promise<Outcome<AckTimes>[]> {
  const rows = await deps.run<{ n: string | number; lease_sec: number | null; delivery_sec: number }>(ACK, [
    refs.map((r) => r.messageId.toLowerCase()),
    refs.map((r) => r.agentId),
    refs.map((r) => r.leaseId ?? null),
  ]);
  const byIndex = new Map(rows.map((row) => [Number(row.n) - 1, row]));
  return refs.map((ref, i) => {
    const row = byIndex.get(i);
    if (!row) return { ok: false, error: notLeased(ref) };
    const times = { leaseSec: numberOrNull(row.lease_sec), deliverySec: Number(row.delivery_sec) };
    // A WebSocket holding this message in flight (acked over HTTP) frees its slot.
    deps.hub.notify(ref.agentId, 'acked');
    const messageId = ref.messageId.toLowerCase();
    observe(
      deps,
      { kind: 'message.acked', agentId: ref.agentId, messageId, ...times, via: ref.via },
      ref.requestId,
    );
    return { ok: true, value: times };
  });
}

export const notLeased = (ref: LeaseRef) =>
  notFound(
    `a current lease on message ${ref.messageId} for ${ref.agentId} (it may have expired or been leased again)`,
  );

export const numberOrNull = (value: number | string | null) => (value === null ? null : Number(value));
