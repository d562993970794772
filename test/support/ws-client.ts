import WebSocket from 'ws';

export interface Frame {
  type: string;
  [key: string]: any;
}

export interface TestSocket {
  ws: WebSocket;
  /** The next frame of this type (any type when omitted), waiting up to `timeoutMs` (default 15 s). */
  next(type?: string, timeoutMs?: number): Promise<Frame & { receivedAt: number }>;
  /** Frames received and not yet taken by `next`. */
  pending(): Frame[];
  send(frame: unknown): void;
  /** Stops answering pings, as a client whose process hangs would. */
  silence(): void;
  /** Resolves with the close code once the relay (or the client) closes the socket. */
  closed: Promise<number>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  token?: string;
  /** Put the token in ?token= instead of the Authorization header. */
  inQuery?: boolean;
  query?: string;
  /** Answer each ping with a pong (default true); false plays a client that went silent. */
  answerPings?: boolean;
}

/**
 * A real WebSocket client of the relay's /v1/agents/{id}/ws; rejects with the HTTP status when
 * the upgrade is refused.
 */
export function connect(baseUrl: string, agentId: string, options: ConnectOptions = {}): Promise<TestSocket> {
  const params = new URLSearchParams(options.query ?? '');
  if (options.inQuery && options.token) params.set('token', options.token);
  const qs = params.toString();
  const url = `${baseUrl.replace(/^http/, 'ws')}/v1/agents/${agentId}/ws${qs ? `?${qs}` : ''}`;
  const headers: Record<string, string> =
    options.token && !options.inQuery ? { authorization: `Bearer ${options.token}` } : {};
  const ws = new WebSocket(url, { headers });
  const queue: (Frame & { receivedAt: number })[] = [];
  const waiters: (() => void)[] = [];
  let answer = options.answerPings ?? true;
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as Frame;
    if (f.type === 'ping' && answer) ws.send(JSON.stringify({ type: 'pong' }));
    queue.push({ ...f, receivedAt: performance.now() });
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));

  // Generous: a wait for an event, never a claim about how fast it comes.
  async function next(type?: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = queue.findIndex((f) => type === undefined || f.type === type);
      if (i >= 0) return queue.splice(i, 1)[0] as Frame & { receivedAt: number };
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no ${type ?? 'frame'} within ${timeoutMs} ms; have ${JSON.stringify(queue)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        next,
        pending: () => [...queue],
        send: (frame) => ws.send(JSON.stringify(frame)),
        silence: () => {
          answer = false;
        },
        closed,
        close: async () => {
          answer = false;
          if (ws.readyState !== WebSocket.CLOSED) ws.close();
          await closed;
        },
      }),
    );
  });
}
