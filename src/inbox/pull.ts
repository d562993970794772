import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';
import { DELIVERY_COLUMNS, type DeliveryRow } from './message-row.js';

/**
 * Leases the oldest ready message of an inbox, in one statement.
 *
 * "Ready" includes a lease that has run out but not yet been swept: that delivery counts as an
 * attempt here, exactly as the sweep would count it, so correctness never depends on how often
 * the sweep runs. An expired lease on its last attempt is left for the sweep to bury.
 * SKIP LOCKED lets concurrent pullers pass over a row another transaction is leasing, so each
 * gets a different message and none waits.
 */
export async function leaseNext(
  db: Db,
  agentId: string,
  visibilityTimeoutSec: number,
): Promise<DeliveryRow | undefined> {
  return firstRow<DeliveryRow>(
    db,
    sql`
      update message m set
        status = 'leased',
        attempts = m.attempts + (m.status = 'leased')::int,
        last_error = case when m.status = 'leased' then 'Lease expired' else m.last_error end,
        lease_id = gen_random_uuid(),
        leased_at = now(),
        lease_until = now() + make_interval(secs => ${visibilityTimeoutSec})
      from (
        select id from message
        where to_agent_id = ${agentId}
          and status in ('delivered', 'leased')
          and (status = 'delivered' or (lease_until < now() and attempts + 1 < max_attempts))
          and expires_at > now()
        order by seq
        limit 1
        for update skip locked
      ) next
      where m.id = next.id
      returning ${DELIVERY_COLUMNS}`,
  );
}
