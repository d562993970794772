import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';
import type { MessageState } from './states.js';

export interface LeaseRef {
  agentId: string;
  messageId: string;
  /** When given, only this lease may settle the message: a stale holder's lease_id no longer matches. */
  leaseId?: string | undefined;
}

/** Rows a holder may settle: leased to this agent, under the named lease or, without one, an unexpired lease. */
const heldBy = (ref: LeaseRef) => sql`
  id = ${ref.messageId.toLowerCase()} and to_agent_id = ${ref.agentId} and status = 'leased'
  and lease_until > now()
  and (${ref.leaseId ?? null}::uuid is null or lease_id = ${ref.leaseId ?? null}::uuid)`;

/** A NACK may also settle a lease that ran out unswept, but only for the holder that names it. */
const nackableBy = (ref: LeaseRef) => sql`
  id = ${ref.messageId.toLowerCase()} and to_agent_id = ${ref.agentId} and status = 'leased'
  and (case when ${ref.leaseId ?? null}::uuid is null then lease_until > now()
            else lease_id = ${ref.leaseId ?? null}::uuid end)`;

/** How long an acked message was held, and how long it took from SEND to ACK (FR-37). */
export interface AckTimes {
  leaseSec: number | null;
  deliverySec: number;
}

/** Settles a held message; undefined when this agent holds no such lease. */
export async function ackMessage(db: Db, ref: LeaseRef): Promise<AckTimes | undefined> {
  const row = await firstRow<{ lease_sec: number | null; delivery_sec: number }>(
    db,
    sql`update message set status = 'acked', acked_at = now(), finished_at = now(), lease_until = null
        where ${heldBy(ref)}
        returning ${SETTLE_TIMES}`,
  );
  return row && { leaseSec: numberOrNull(row.lease_sec), deliverySec: Number(row.delivery_sec) };
}

/** Seconds since the lease began and since the message was stored, as the ACK sees them. */
export const SETTLE_TIMES = sql.raw(
  'extract(epoch from now() - leased_at)::float8 as lease_sec, extract(epoch from now() - created_at)::float8 as delivery_sec',
);

export const numberOrNull = (value: number | string | null) => (value === null ? null : Number(value));

export interface NackResult {
  status: MessageState;
  attempts: number;
  lease_until: Date | string | null;
}

/** Pushes the lease out by `extendSec` from whichever is later, its current end or now. */
export async function extendLease(db: Db, ref: LeaseRef, extendSec: number): Promise<NackResult | undefined> {
  return firstRow<NackResult>(
    db,
    sql`update message set lease_until = greatest(lease_until, now()) + make_interval(secs => ${extendSec})
        where ${nackableBy(ref)} returning status, attempts, lease_until`,
  );
}

/** Hands the message back: one more attempt spent, and dead once attempts run out (FR-21). */
export async function releaseLease(db: Db, ref: LeaseRef, reason: string): Promise<NackResult | undefined> {
  return firstRow<NackResult>(
    db,
    sql`update message set
          attempts = attempts + 1,
          status = case when attempts + 1 >= max_attempts then 'dead'::message_status else 'delivered' end,
          last_error = case when attempts + 1 >= max_attempts then 'Max attempts exceeded: ' || ${reason} else ${reason} end,
          finished_at = case when attempts + 1 >= max_attempts then now() end,
          lease_id = null, lease_until = null
        where ${nackableBy(ref)} returning status, attempts, lease_until`,
  );
}
