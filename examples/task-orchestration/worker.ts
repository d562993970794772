/**
 * A worker of the task-orchestration example. Several of them share one inbox (one agent, several
 * consumers): the relay leases each task to exactly one of them, so they share the load without
 * knowing of each other.
 *
 * The task's `mode` says how it behaves, to show the three ways a task can end:
 * - `ok`: answered at once.
 * - `flaky`: fails on its first delivery (a transient error: the handler throws, so the SDK NACKs
 *   it and the relay delivers it again with `attempts` one higher), then succeeds.
 * - `poison`: fails on every delivery; after MAX_ATTEMPTS (3 by default) the relay marks it
 *   `dead` and stops delivering it. It ends in the dead letters, where an operator can inspect it.
 */
import type { ADMPClient, Subscription } from '@agent-dispatch/client';

export type Mode = 'ok' | 'flaky' | 'poison';

export interface Task {
  task: number;
  mode: Mode;
  n: number;
}

export interface Delivery {
  task: number;
  worker: string;
  attempts: number;
  outcome: 'answered' | 'failed';
}

/** Starts one worker; every delivery it sees is appended to `log`. */
export function startWorker(name: string, client: ADMPClient, log: Delivery[]): Subscription {
  return client.subscribe(
    async (message) => {
      const { task, mode, n } = message.body as unknown as Task;
      // Pretend to work for a moment, so the tasks overlap across workers.
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      const fails = mode === 'poison' || (mode === 'flaky' && message.attempts === 0);
      log.push({ task, worker: name, attempts: message.attempts, outcome: fails ? 'failed' : 'answered' });
      // Throwing NACKs the message: it goes back to the inbox with one more attempt counted.
      if (fails) throw new Error(`${mode} task ${task} failed on attempt ${message.attempts + 1}`);
      await client.reply(message, {
        result: { task, square: n * n, worker: name, attempts: message.attempts },
      });
    },
    // Long-poll PULL leases one task at a time to each worker, so the load spreads across them.
    // Expected failures are part of the story; anything else would show up in the checks.
    { transport: 'poll', onError: () => {} },
  );
}
