import WebSocket from 'ws';
import { CliError, type Command, type Context, intOption } from '../command.js';
import { describeError } from '../relay-client.js';

const MAX_BACKOFF_MS = 30_000;

interface Tail {
  /** Called with each delivery; resolves once it is printed (and acknowledged). */
  deliver(message: Delivery): Promise<void>;
  done: boolean;
}

export const tailCommand: Command = {
  name: 'tail',
  summary: 'Follow --agent’s inbox live over the WebSocket, printing each message as one JSON line',
  remote: true,
  options: {
    'no-ack': { type: 'boolean', description: 'leave messages leased instead of acknowledging them' },
    count: { type: 'string', value: 'n', description: 'stop after n messages' },
    'visibility-timeout': { type: 'string', value: 'sec', description: 'lease length (default 30)' },
    poll: { type: 'boolean', description: 'long-poll PULL (wait 20 s) instead of the WebSocket' },
  },
  details:
    'tail consumes: each message is leased to it and, once printed, acknowledged. With --no-ack it stays\n' +
    'leased until the lease runs out and is then delivered again, one attempt counted. Reconnects with\n' +
    'exponential backoff; connection notices go to stderr. Stop it with Ctrl-C.',
  async run(c) {
    const limit = intOption(c.values, 'count');
    const visibility = intOption(c.values, 'visibility-timeout', 30) ?? 30;
    let seen = 0;
    const tail: Tail = {
      done: limit === 0,
      async deliver(message) {
        c.out(JSON.stringify(message));
        seen += 1;
        if (limit !== undefined && seen >= limit) tail.done = true;
      },
    };
    c.onInterrupt(() => {
      tail.done = true;
    });
    if (c.values.poll) return poll(c, tail, visibility);
    return follow(c, tail, visibility);
  },
};

async function poll(c: Context, tail: Tail, visibility: number) {
  const inbox = `/v1/agents/${encodeURIComponent(c.agent())}`;
  c.note(`following ${c.agent()} by long-poll PULL…`);
  while (!tail.done) {
    const r = await c
      .relay()
      .call<Delivery>('POST', `${inbox}/inbox/pull?visibility_timeout=${visibility}&wait=20`, {
        timeoutMs: 60_000,
      });
    if (r.status === 204) continue;
    await tail.deliver(r.body);
    if (c.values['no-ack']) continue;
    const id = encodeURIComponent(r.body.id);
    await c
      .relay()
      .call('POST', `${inbox}/messages/${id}/ack?lease_id=${encodeURIComponent(r.body.lease_id)}`);
  }
}

/** One WebSocket after another until done: a dropped connection is retried with backoff. */
async function follow(c: Context, tail: Tail, visibility: number) {
  const relay = c.relay();
  const url = `${relay.url.replace(/^http/, 'ws')}/v1/agents/${encodeURIComponent(c.agent())}/ws?visibility_timeout=${visibility}`;
  let failures = 0;
  while (!tail.done) {
    const outcome = await connectOnce(c, url, relay.headers(), tail);
    if (tail.done) break;
    if (outcome.fatal) throw new CliError(outcome.reason);
    failures = outcome.welcomed ? 1 : failures + 1;
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures) * (0.5 + Math.random() / 2);
    c.note(`${outcome.reason}; reconnecting in ${(backoff / 1000).toFixed(1)} s`);
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}

/** What the relay sends; see the SPEC's Realtime section. */
type Frame =
  | { type: 'welcome'; session_id: string }
  | { type: 'ping' }
  | { type: 'error'; code: string; message: string }
  | { type: 'message'; message: Delivery };

interface Delivery {
  id: string;
  lease_id: string;
  [field: string]: unknown;
}

interface Outcome {
  welcomed: boolean;
  fatal: boolean;
  reason: string;
}

function connectOnce(c: Context, url: string, headers: Record<string, string>, tail: Tail): Promise<Outcome> {
  return new Promise((resolve) => {
    let welcomed = false;
    const socket = new WebSocket(url, { headers });
    socket.on('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        const status = response.statusCode ?? 0;
        // Credentials and permissions do not fix themselves; a 429 or a 5xx may.
        resolve({ welcomed, fatal: status < 500 && status !== 429, reason: describeError(status, body) });
        socket.terminate();
      });
    });
    socket.on('error', (error) => {
      resolve({ welcomed, fatal: false, reason: `cannot reach the relay: ${error.message}` });
    });
    socket.on('close', (code, reason) => {
      resolve({
        welcomed,
        fatal: false,
        reason: `connection closed (${code}${reason.length ? ` ${reason}` : ''})`,
      });
    });
    socket.on('message', async (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if (frame.type === 'welcome') {
        welcomed = true;
        c.note(`following ${c.agent()} over the WebSocket (session ${frame.session_id})`);
      } else if (frame.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (frame.type === 'error') {
        c.note(`relay: ${frame.code}: ${frame.message}`);
      } else if (frame.type === 'message') {
        if (tail.done) return;
        await tail.deliver(frame.message);
        if (!c.values['no-ack']) {
          await new Promise<void>((sent) =>
            socket.send(JSON.stringify({ type: 'ack', message_id: frame.message.id }), () => sent()),
          );
        }
        if (tail.done) socket.close(1000);
      }
    });
  });
}
