import type { Deps } from '../deps.js';

/** The longest long-poll a PULL may ask for. */
export const MAX_WAIT_SEC = 20;

/**
 * Long-poll: tries at once, else waits on the hub for the inbox to be notified and tries again,
 * until `waitSec` runs out, the client goes away (`signal`) or the relay begins to stop. The
 * database is asked once per wake, never on a timer. `attempt` answers undefined when there is
 * nothing to take yet.
 */
export async function untilReady<T>(
  deps: Pick<Deps, 'hub' | 'stopping'>,
  agentId: string,
  waitSec: number,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = Date.now() + waitSec * 1000;
  const ends = signal ? [signal, deps.stopping] : [deps.stopping];
  // Watching before the first look, so a SEND between that look and the wait is not missed.
  let woken = false;
  let resolveWake: (() => void) | undefined;
  const unwatch = deps.hub.watch(agentId, (change) => {
    // Only a message that became ready can end the wait.
    if (change !== 'ready') return;
    woken = true;
    resolveWake?.();
  });
  try {
    for (;;) {
      woken = false;
      if (ends.some((end) => end.aborted)) return undefined;
      const found = await attempt();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          for (const end of ends) end.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, left);
        resolveWake = done;
        for (const end of ends) end.addEventListener('abort', done, { once: true });
      });
      resolveWake = undefined;
    }
  } finally {
    unwatch();
  }
}
