import type { ADMPClient } from './client.js';
import { sleep } from './retry.js';
import type { Message } from './types.js';
import { resolveWebSocket } from './websocket.js';
import { runWebSocket } from './websocket-subscription.js';

/** Called once per message; return to ACK, throw to NACK. */
export type MessageHandler = (message: Message) => unknown | Promise<unknown>;

/** Options of `subscribe()` and `messages()`. */
export interface SubscribeOptions {
  /**
   * `websocket` (push, with heartbeats), `poll` (long-poll PULL), or `auto` (default): the
   * WebSocket when the runtime has one and it connects, long polling otherwise.
   */
  transport?: 'auto' | 'websocket' | 'poll';
  /** Lease length of each message, in seconds (default 30). */
  visibilityTimeout?: number;
  /** Seconds each long poll waits for a message (default 20). */
  wait?: number;
  /** Told about errors the subscription survives: a lost connection, a failed ACK. */
  onError?: (error: unknown) => void;
  /** Longest pause between reconnection attempts, in ms (default 30000). */
  maxReconnectDelayMs?: number;
  /**
   * Reconnect when the relay has sent nothing (not even a ping) for this long, in ms (default: two
   * of the heartbeat intervals the relay announces, plus 5 s).
   */
  heartbeatTimeoutMs?: number;
}

/**
 * A running subscription.
 *
 * @example
 * const sub = client.subscribe(handle);
 * process.on('SIGTERM', () => sub.close());
 */
export interface Subscription {
  /**
   * Which transport is carrying messages right now.
   *
   * @example
   * if (sub.transport === 'poll') console.warn('no WebSocket; long polling');
   */
  readonly transport: 'websocket' | 'poll' | 'connecting';
  /**
   * Stops taking messages, lets the handler finish the one it is on (and settles it), NACKs any
   * pushed but not yet handled, and closes the connection.
   *
   * @example
   * await sub.close();
   */
  close(): Promise<void>;
}

/** What a transport loop shares with the subscription around it. */
export interface Running {
  readonly signal: AbortSignal;
  transport: Subscription['transport'];
  /** Runs the handler and settles the message: ACK on return, NACK on throw, nothing if user code did. */
  handle(message: Message, settle: (outcome: 'ack' | 'nack') => Promise<void>): Promise<void>;
  report(error: unknown): void;
}

export function openSubscription(
  client: ADMPClient,
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

/** Thrown into a handler's place when the consumer stops; never reported as a failure. */
export class StopConsuming extends Error {
  constructor() {
    super('subscription closed');
    this.name = 'StopConsuming';
  }
}

async function run(client: ADMPClient, running: Running, options: SubscribeOptions): Promise<void> {
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

async function poll(client: ADMPClient, running: Running, options: SubscribeOptions): Promise<void> {
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
