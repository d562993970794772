import { purgeAdmissions } from '../auth/admission.js';
import type { Deps } from '../deps.js';
import { observe } from '../observe/events.js';
import { purgeHourlySlots } from '../policy/rate-limit.js';
import { purgeSessions } from '../realtime/sessions.js';
import {
  expireTtl,
  purgeAudit,
  purgeFinished,
  reclaimExpired,
  reclaimInbox,
  type SweptMessage,
} from './sweep.js';

type SweepDeps = Pick<Deps, 'db' | 'logger' | 'config' | 'metrics' | 'audit' | 'hub'>;

/** A lease that ran out: back to ready with an attempt spent, or dead (FR-21). */
function observeExpiry(deps: SweepDeps, m: SweptMessage): void {
  const event = { kind: 'lease.expired', agentId: m.to_agent_id, messageId: m.id } as const;
  observe(deps, { ...event, attempts: m.attempts, status: m.status });
}

/** Tells each inbox once what its expiries did, however many: the hub batches further across processes. */
function wakeReturned(deps: Pick<Deps, 'hub'>, returned: SweptMessage[]): void {
  const ready = new Set<string>();
  const dead = new Set<string>();
  for (const m of returned) (m.status === 'delivered' ? ready : dead).add(m.to_agent_id);
  for (const agentId of ready) deps.hub.notify(agentId, 'ready');
  for (const agentId of dead) deps.hub.notify(agentId, 'dead');
}

/** RECLAIM (FR-12): this inbox's expired leases back now; how many came back. */
export async function reclaim(deps: SweepDeps, agentId: string): Promise<number> {
  const returned = await reclaimInbox(deps.db, agentId);
  for (const m of returned) observeExpiry(deps, m);
  wakeReturned(deps, returned);
  return returned.length;
}

/** One pass of every sweep; Node's timers and the Workers' Cron Trigger both call this. */
export async function sweepOnce(deps: SweepDeps, which: 'leases' | 'ttl') {
  const { db, logger, config } = deps;
  if (which === 'leases') {
    const returned = await reclaimExpired(db);
    for (const m of returned) observeExpiry(deps, m);
    wakeReturned(deps, returned);
    return;
  }
  for (const m of await expireTtl(db))
    observe(deps, { kind: 'ttl.expired', agentId: m.to_agent_id, messageId: m.id });
  const purged = await purgeFinished(db, config.messageRetentionSec);
  if (purged.length) logger.debug({ count: purged.length }, 'purged finished messages past retention');
  await purgeAdmissions(db);
  await purgeHourlySlots(db);
  await purgeSessions(db);
  await purgeAudit(db, config.auditRetentionSec);
}
