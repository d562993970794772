import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import { observe } from '../observe/events.js';
import { DELIVERY_COLUMNS, type Delivery, type DeliveryRow, renderDelivery } from './message-row.js';
import type { Origin } from './operation.js';

export interface LeaseRequest extends Origin {
  agentId: string;
  visibilityTimeoutSec: number;
  /** How many messages at most (PULL: 1; PULL batch: up to 100; a WebSocket: its free slots). */
  max: number;
  via: 'pull' | 'push';
}

/**
 * Leases the oldest ready messages of an inbox, in one statement.
 *
 * "Ready" includes a lease that has run out but not yet been swept: that delivery counts as an
 * attempt here, exactly as the sweep would count it, so correctness never depends on how often
 * the sweep runs. An expired lease on its last attempt is left for the sweep to bury. A delivered
 * message is ready once its `available_at` has come (a delayed SEND, a NACK with back-off); the
 * ready index still serves the scan, and the hub wakes waiters at that time.
 * SKIP LOCKED lets concurrent pullers pass over rows another transaction is leasing, so each
 * gets different messages and none waits.
 *
 * The choice is a materialized CTE, so it runs exactly once. As a subquery the planner may rescan it
 * (the inner side of a nested loop, chosen when the statistics say the table is tiny); each rescan
 * skips the rows this statement already leased and takes the next ones, so LIMIT 1 leased them all.
 */
export const LEASE = statement(
  'admp_lease',
  `with next as materialized (
     select id from message
     where to_agent_id = $1
       and status in ('delivered', 'leased')
       and (case when status = 'delivered' then available_at <= now()
         else lease_until < now() and attempts + 1 < max_attempts end)
       and expires_at > now()
     order by seq
     limit $3
     for update skip locked
   )
   update message m set
     status = 'leased',
     attempts = m.attempts + (m.status = 'leased')::int,
     last_error = case when m.status = 'leased' then 'Lease expired' else m.last_error end,
     lease_id = gen_random_uuid(),
     leased_at = now(),
     lease_until = now() + make_interval(secs => $2)
   from next
   where m.id = next.id
   returning m.seq, ${DELIVERY_COLUMNS}`,
  { durable: false },
);

/** Leases up to `max` messages, oldest first, and records each as leased. */
export async function lease(deps: Deps, request: LeaseRequest): Promise<Delivery[]> {
  const rows = await leaseRows(deps, request, request.max);
  return rows.map((row) => leased(deps, request, row));
}

/**
 * PULL of one message. Concurrent PULLs of one inbox (with one visibility timeout) go to the
 * database as one lease of as many messages as there are callers, handed out oldest first in
 * the order the callers came.
 */
export async function leaseOne(
  deps: Deps,
  request: Omit<LeaseRequest, 'max'>,
): Promise<Delivery | undefined> {
  const lane = `lease\n${request.agentId}\n${request.visibilityTimeoutSec}`;
  return deps.groupCommit.submit(lane, request, async (callers) => {
    const rows = await leaseRows(deps, request, callers.length);
    return callers.map((caller, i) => {
      const row = rows[i];
      return { ok: true, value: row && leased(deps, caller, row) };
    });
  });
}

async function leaseRows(
  deps: Deps,
  request: Omit<LeaseRequest, 'max'>,
  max: number,
): Promise<DeliveryRow[]> {
  const rows = await deps.run<DeliveryRow & { seq: string | number }>(LEASE, [
    request.agentId,
    request.visibilityTimeoutSec,
    max,
  ]);
  // UPDATE … RETURNING keeps no order; send order is what the ordering guarantee promises.
  return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
}

function leased(deps: Deps, origin: Omit<LeaseRequest, 'max'>, row: DeliveryRow): Delivery {
  const delivery = renderDelivery(row);
  const { id: messageId, lease_until: leaseUntil, attempts } = delivery;
  observe(
    deps,
    { kind: 'message.leased', agentId: origin.agentId, messageId, leaseUntil, attempts, via: origin.via },
    origin.requestId,
  );
  return delivery;
}

/** Which of these leases still hold their message (not settled, not run out), found by message id. */
const HELD = statement(
  'admp_held_leases',
  `select m.id from message m join unnest($1::text[], $2::uuid[]) as h(id, lease_id)
     on m.id = h.id and m.lease_id = h.lease_id
   where m.status::text = 'leased' and m.lease_until > now()`,
  { durable: false },
);

/** The messages among `held` (message id → lease id) whose lease still holds. */
export async function stillHeld(deps: Deps, held: ReadonlyMap<string, string>): Promise<Set<string>> {
  const rows = await deps.run<{ id: string }>(HELD, [[...held.keys()], [...held.values()]]);
  return new Set(rows.map((row) => row.id));
}
