import type { Consumer, Running, SubscribeOptions } from './consumer.js';
import { APIConnectionError, APIError } from './errors.js';
import { backoffMs, sleep } from './retry.js';
import type { Message } from './types.js';
import { connectWebSocket, OPEN, type resolveWebSocket, type WebSocketLike } from './websocket.js';

type Resolved = NonNullable<Awaited<ReturnType<typeof resolveWebSocket>>>;

/** SPEC: Realtime. Server → client frames. */
type ServerFrame =
  | { type: 'welcome'; session_id: string; heartbeat_interval_sec?: number }
  | { type: 'message'; message: Message }
  | { type: 'ping' }
  | { type: 'error'; code: string; message: string; message_id?: string };

/**
 * Keeps the agent's WebSocket open until the subscription closes: answers pings, hands pushed
 * messages to the handler one at a time in arrival order, and reconnects with backoff and jitter
 * when the connection drops or the relay goes quiet. Returns true when it never got a connection
 * and may fall back to long polling.
 */
export async function runWebSocket(
  client: Consumer,
  running: Running,
  resolved: Resolved,
  options: SubscribeOptions & { fallBack: boolean },
): Promise<boolean> {
  const { signal } = running;
  // One queue across reconnections, so order holds and a slow handler never delays reconnecting.
  let queue: Promise<void> = Promise.resolve();
  let welcomed = false;
  let attempt = 0;
  try {
    while (!signal.aborted) {
      const outcome = await session(client, running, resolved, options, (work) => {
        queue = queue.then(work);
      });
      if (outcome === 'welcomed') {
        welcomed = true;
        attempt = 0;
      }
      if (signal.aborted) break;
      if (!welcomed && options.fallBack) {
        running.report(
          new APIConnectionError({ code: 'websocket_unavailable', message: 'falling back to long polling' }),
        );
        return true;
      }
      const delay = Math.min(options.maxReconnectDelayMs ?? 30_000, backoffMs(attempt++));
      await sleep(delay, signal).catch(() => {});
    }
    return false;
  } finally {
    await queue;
  }
}

/** One connection, start to close. Resolves 'welcomed' if the relay said welcome, else 'failed'. */
async function session(
  client: Consumer,
  running: Running,
  resolved: Resolved,
  options: SubscribeOptions,
  enqueue: (work: () => Promise<void>) => void,
): Promise<'welcomed' | 'failed'> {
  const { signal } = running;
  let ws: WebSocketLike;
  try {
    ws = await connectWebSocket(
      resolved,
      client.transport.baseUrl,
      client.agentId,
      client.credentials,
      options.visibilityTimeout,
    );
  } catch (error) {
    running.report(error);
    return 'failed';
  }
  // Until the welcome says how often the relay pings, allow for its default of 30 s.
  let silenceMs = options.heartbeatTimeoutMs ?? 65_000;
  return new Promise((resolve) => {
    let welcomed = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const send = (frame: object) => ws.send(JSON.stringify(frame));
    const arm = () => {
      if (watchdog) clearTimeout(watchdog);
      // Silence past the heartbeat means a half-open connection: drop it and reconnect.
      watchdog = setTimeout(() => ws.close(4000, 'heartbeat timeout'), silenceMs);
    };
    const onAbort = () => {
      // Finish the handler in progress first, so its ACK can still go over this socket.
      enqueue(async () => ws.close(1000, 'subscription closed'));
    };
    signal.addEventListener('abort', onAbort, { once: true });

    ws.onopen = () => arm();
    ws.onerror = (event) => running.report(errorOf(event));
    ws.onclose = () => {
      if (watchdog) clearTimeout(watchdog);
      if (!signal.aborted) running.transport = 'connecting';
      signal.removeEventListener('abort', onAbort);
      resolve(welcomed ? 'welcomed' : 'failed');
    };
    ws.onmessage = (event) => {
      arm();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return running.report(new TypeError('the relay sent a frame that is not JSON'));
      }
      switch (frame.type) {
        case 'ping':
          return send({ type: 'pong' });
        case 'welcome':
          welcomed = true;
          running.transport = 'websocket';
          // Two missed pings and some slack: the relay itself gives up after two.
          if (options.heartbeatTimeoutMs === undefined && frame.heartbeat_interval_sec) {
            silenceMs = frame.heartbeat_interval_sec * 2_000 + 5_000;
            arm();
          }
          return;
        case 'message': {
          const message = frame.message;
          return enqueue(() => deliver(client, running, ws, message));
        }
        case 'error':
          return running.report(new APIError({ code: frame.code, message: frame.message }));
      }
    };
  });
}

/** Runs the handler on one pushed message and settles it over the socket, or over HTTP if it closed. */
async function deliver(
  client: Consumer,
  running: Running,
  ws: WebSocketLike,
  message: Message,
): Promise<void> {
  const settle = async (outcome: 'ack' | 'nack') => {
    if (ws.readyState === OPEN) {
      ws.send(JSON.stringify({ type: outcome, message_id: message.id }));
    } else if (outcome === 'ack') {
      await client.ack(message);
    } else {
      await client.nack(message);
    }
  };
  // Pushed after close() began: give it straight back rather than start new work.
  if (running.signal.aborted) return settle('nack').catch((error) => running.report(error));
  await running.handle(message, settle);
}

function errorOf(event: unknown): APIConnectionError {
  const detail =
    (event as { message?: string; error?: Error })?.error?.message ??
    (event as { message?: string })?.message;
  return new APIConnectionError({
    code: 'connection_error',
    message: `WebSocket error${detail ? `: ${detail}` : ''}`,
  });
}
