import {
  type Consumer,
  type MessageHandler,
  type Running,
  StopConsuming,
  type SubscribeOptions,
  type Subscription,
} from './consumer.js';
import { sleep } from './retry.js';
import type { Message } from './types.js';
import { resolveWebSocket } from './websocket.js';
import { runWebSocket } from './websocket-subscription.js';

export function openSubscription(
  client: Consumer,
  handler: MessageHandler,
  options: SubscribeOptions,
): Subscription {
  const stop = new AbortController();
  const running: Running = {
    signal: stop.signal,
    transport: 'connecting',
    async handle(message, settle) {
      const settledByUser = client.track(message.id);
      let outcome: 'ack' | 'nack' = 'ack';
      try {
        await handler(message);
      } catch (error) {
        outcome = 'nack';
        if (!(error instanceof StopConsuming)) running.report(error);
      }
      if (settledByUser()) return;
      try {
        await settle(outcome);
      } catch (error) {
        running.report(error);
      }
    },
    report(error) {
      if (!stop.signal.aborted) options.onError?.(error);
    },
  };
  const done = run(client, running, options).catch((error) => running.report(error));
  return {
    get transport() {
      return running.transport;
    },
    async close() {
      stop.abort(new StopConsuming());
      await done;
    },
  };
}

async function run(client: Consumer, running: Running, options: SubscribeOptions): Promise<void> {
  const mode = options.transport ?? 'auto';
  if (mode !== 'poll') {
    const resolved = await resolveWebSocket(client.webSocket, client.credentials.kind === 'hmac');
    if (resolved) {
      const fellBack = await runWebSocket(client, running, resolved, {
        ...options,
        fallBack: mode === 'auto',
      });
      if (!fellBack) return;
    } else if (mode === 'websocket') {
      throw new TypeError(
        'subscribe: no WebSocket available; install the ws package or pass options.WebSocket',
      );
    }
  }
  await poll(client, running, options);
}

async function poll(client: Consumer, running: Running, options: SubscribeOptions): Promise<void> {
  running.transport = 'poll';
  const { signal } = running;
  let failures = 0;
  while (!signal.aborted) {
    let message: Message | null;
    const started = Date.now();
    try {
      message = await client.pull({
        visibilityTimeout: options.visibilityTimeout ?? 30,
        wait: options.wait ?? 20,
        signal,
      });
      failures = 0;
    } catch (error) {
      if (signal.aborted) return;
      // The client already retried; keep the subscription alive across a longer outage.
      running.report(error);
      failures++;
      await sleep(Math.min(options.maxReconnectDelayMs ?? 30_000, 1_000 * 2 ** failures), signal).catch(
        () => {},
      );
      continue;
    }
    if (!message) {
      // A relay without long polling answers at once; do not spin on it.
      if (Date.now() - started < 200) await sleep(500, signal).catch(() => {});
      continue;
    }
    const leased = message;
    await running.handle(leased, async (outcome) => {
      if (outcome === 'ack') await client.ack(leased);
      else await client.nack(leased);
    });
  }
}
