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

export async function ackMessage(db: Db, ref: LeaseRef): Promise<boolean> {
  const row = await firstRow<{ id: string }>(
    db,
    sql`update message set status = 'acked', acked_at = now(), finished_at = now(), lease_until = null
        where ${heldBy(ref)} returning id`,
  );
  return row !== undefined;
}

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
