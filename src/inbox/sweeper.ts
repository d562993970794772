import { purgeAdmissions } from '../auth/admission.js';
import type { Deps } from '../deps.js';
import { purgeSessions } from '../realtime/sessions.js';
import { expireTtl, purgeFinished, reclaimExpired } from './sweep.js';

/** One pass of every sweep; Node's timers and the Workers' Cron Trigger both call this. */
export async function sweepOnce(
  deps: Pick<Deps, 'db' | 'logger' | 'config' | 'hub'>,
  which: 'leases' | 'ttl',
) {
  const { db, logger, config } = deps;
  if (which === 'leases') {
    const ready = new Set<string>();
    for (const m of await reclaimExpired(db)) {
      logger.info({ message_id: m.id, attempts: m.attempts, status: m.status }, 'lease expired');
      if (m.status === 'delivered') ready.add(m.to_agent_id);
    }
    // One wake per inbox, not per message: the hub batches them further across processes.
    for (const agentId of ready) deps.hub.notify(agentId);
    return;
  }
  for (const m of await expireTtl(db)) logger.info({ message_id: m.id }, 'TTL expired');
  const purged = await purgeFinished(db, config.messageRetentionSec);
  if (purged.length) logger.debug({ count: purged.length }, 'purged finished messages past retention');
  await purgeAdmissions(db);
  await purgeSessions(db);
}
