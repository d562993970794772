import { isoOrNull } from '../db/database.js';
import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import type { MessageState } from '../message-states.js';
import { observe } from '../observe/events.js';
import { type LeaseRef, notLeased } from './ack.js';
import type { Origin } from './operation.js';

export interface NackResult {
  status: MessageState;
  attempts: number;
  lease_until: string | null;
}

export interface NackRequest extends LeaseRef, Origin {
  /** Keep the message: push its lease out by this many seconds instead of giving it back. */
  extendSec?: number | undefined;
  /** Give it back, but ready only this many seconds from now (back-off). */
  delaySec?: number | undefined;
  reason?: string | undefined;
}

// A NACK may also settle a lease that ran out unswept, but only for the holder that names it.
// (`status::text`: see ack.ts; the row is found by its primary key.)
const NACKABLE = `m.id = $1 and m.to_agent_id = $2 and m.status::text = 'leased'
  and (case when $3::uuid is null then m.lease_until > now() else m.lease_id = $3::uuid end)`;

/** Pushes the lease out by `extendSec` from whichever is later, its current end or now. */
const EXTEND = statement(
  'admp_extend',
  `update message m set lease_until = greatest(m.lease_until, now()) + make_interval(secs => $4)
   where ${NACKABLE} returning m.status, m.attempts, m.lease_until`,
  { durable: false },
);

/** Hands the message back: one more attempt spent, and dead once attempts run out (FR-21). */
const RELEASE = statement(
  'admp_release',
  `update message m set
     attempts = m.attempts + 1,
     status = case when m.attempts + 1 >= m.max_attempts then 'dead'::message_status else 'delivered' end,
     last_error = case when m.attempts + 1 >= m.max_attempts then 'Max attempts exceeded: ' || $4::text else $4::text end,
     finished_at = case when m.attempts + 1 >= m.max_attempts then now() end,
     available_at = now() + make_interval(secs => $5),
     lease_id = null, lease_until = null
   where ${NACKABLE} returning m.status, m.attempts, m.lease_until, m.available_at`,
  { durable: false },
);

/** NACK: give a held message back (or extend its lease); 404 when this agent holds no such lease. */
export async function nack(deps: Deps, request: NackRequest): Promise<NackResult> {
  const { agentId, extendSec } = request;
  const messageId = request.messageId.toLowerCase();
  const reason = request.reason ?? 'Nacked';
  const key = [messageId, agentId, request.leaseId ?? null];
  const [row] = await deps.run<{
    status: MessageState;
    attempts: number;
    lease_until: Date | string | null;
    available_at?: Date | string;
  }>(
    extendSec === undefined ? RELEASE : EXTEND,
    extendSec === undefined ? [...key, reason, request.delaySec ?? 0] : [...key, extendSec],
  );
  if (!row) throw notLeased(request);
  const result = { status: row.status, attempts: row.attempts, lease_until: isoOrNull(row.lease_until) };
  if (extendSec !== undefined) {
    const leaseUntil = result.lease_until as string;
    observe(deps, { kind: 'lease.extended', agentId, messageId, leaseUntil }, request.requestId);
    return result;
  }
  // Now, for a WebSocket whose slot this frees; and when a backed-off message becomes ready.
  if (result.status !== 'leased') deps.hub.notify(agentId);
  if (result.status === 'delivered' && request.delaySec) {
    deps.hub.notify(agentId, Date.parse(isoOrNull(row.available_at) as string));
  }
  const { status, attempts } = result;
  observe(deps, { kind: 'message.nacked', agentId, messageId, reason, status, attempts }, request.requestId);
  return result;
}
