import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { WebSocketServer } from 'ws';
import { answerSqlOverHttp, closeSqlPools } from './sql-over-http.js';

/**
 * A stand-in for Neon's proxy in front of one local PostgreSQL server, so the Workers build can
 * be run and tested offline: WebSocket connections are piped byte for byte to the server's TCP
 * port (what Neon's wsproxy does), and `POST /sql` answers Neon's SQL-over-HTTP protocol.
 * It only ever reaches the one server it was started for.
 */
export interface NeonProxy {
  /** For NEON_WS_PROXY: host:port, no scheme. */
  wsProxy: string;
  /** For NEON_HTTP_ENDPOINT. */
  httpEndpoint: string;
  close(): Promise<void>;
}

export async function startNeonProxy(postgresUrl: string, port = 0): Promise<NeonProxy> {
  const target = new URL(postgresUrl);
  const targetPort = Number(target.port || 5432);
  const allowed = (host: string, port: number) => sameHost(host, target.hostname) && port === targetPort;

  const http = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/sql')) {
      readBody(req).then((body) => answerSqlOverHttp(req, body, allowed, res), fail(res));
      return;
    }
    res.writeHead(404).end();
  });

  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket, req) => {
    // The driver names the server it wants as ?address=host:port; anything else is refused.
    const address = new URL(req.url ?? '/', 'http://proxy').searchParams.get('address') ?? '';
    const [host = '', portText = ''] = splitHostPort(address);
    if (!allowed(host, Number(portText))) {
      socket.close(1008, `this proxy only reaches ${target.host}`);
      return;
    }
    const tcp = connect(targetPort, target.hostname);
    tcp.setNoDelay(true);
    // Frames that arrive before the TCP connection is up are written once it is; net buffers them.
    socket.on('message', (data: Buffer) => tcp.write(data));
    tcp.on('data', (data) => socket.send(data));
    socket.on('close', () => tcp.end());
    socket.on('error', () => tcp.destroy());
    tcp.on('close', () => socket.close());
    tcp.on('error', () => socket.terminate());
  });

  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const address = http.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    wsProxy: `127.0.0.1:${bound}`,
    httpEndpoint: `http://127.0.0.1:${bound}/sql`,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await closeSqlPools();
    },
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const sameHost = (a: string, b: string) => a === b || (LOOPBACK.has(a) && LOOPBACK.has(b));

function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  return at < 0 ? [address, ''] : [address.slice(0, at), address.slice(at + 1)];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const fail = (res: ServerResponse) => (error: unknown) => {
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
  res.end(String(error));
};
