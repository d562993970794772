import type { Deps } from '../deps.js';
import type { DeliveryRow } from '../inbox/message-row.js';
import { leaseNext } from '../inbox/pull.js';

/** The longest long-poll a PULL may ask for. */
export const MAX_WAIT_SEC = 20;

/**
 * Long-poll PULL: leases at once if it can, else waits on the hub for the inbox to be notified
 * and tries again, until `waitSec` runs out or the client goes away. The database is asked once
 * per wake, never on a timer.
 */
export async function leaseOrWait(
  deps: Pick<Deps, 'db' | 'hub'>,
  agentId: string,
  visibilityTimeoutSec: number,
  waitSec: number,
  signal?: AbortSignal,
): Promise<DeliveryRow | undefined> {
  const deadline = Date.now() + waitSec * 1000;
  // Watching before the first look, so a SEND between that look and the wait is not missed.
  let woken = false;
  let resolveWake: (() => void) | undefined;
  const unwatch = deps.hub.watch(agentId, () => {
    woken = true;
    resolveWake?.();
  });
  try {
    for (;;) {
      woken = false;
      if (signal?.aborted) return undefined;
      const row = await leaseNext(deps.db, agentId, visibilityTimeoutSec);
      if (row) return row;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        resolveWake = done;
        signal?.addEventListener('abort', done, { once: true });
      });
      resolveWake = undefined;
    }
  } finally {
    unwatch();
  }
}
