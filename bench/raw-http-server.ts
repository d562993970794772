/**
 * The `raw-http` leg's server: the `raw` leg's prepared statements behind the least an HTTP
 * service can be (node:http, one JSON parse per body, no auth, validation, routing library, log,
 * metric or audit row). Its throughput is the ceiling of any queue served over HTTP on this
 * machine and database, the relay included. Prints its port on stdout once it listens.
 *
 *   POST /send/{inbox}            body: the message body          → 201
 *   POST /lease/{inbox}                                           → 200 {id, lease_id, body} | 204
 *   POST /ack/{id}?lease_id=…                                     → 200 | 404
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { ACK, LEASE, SEND } from './legs/raw.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE) });
pool.on('error', () => {});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, json?: unknown): void {
  if (json === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://raw-http');
  const [, verb, key] = url.pathname.split('/');
  const body = await readBody(req);
  if (req.method !== 'POST' || !key) return answer(res, 404, { error: 'not_found' });
  if (verb === 'send') {
    await pool.query({ ...SEND, values: [key, JSON.stringify(JSON.parse(body))] });
    return answer(res, 201, { status: 'delivered' });
  }
  if (verb === 'lease') {
    const { rows } = await pool.query({ ...LEASE, values: [key] });
    return rows[0] ? answer(res, 200, rows[0]) : answer(res, 204);
  }
  if (verb === 'ack') {
    const { rowCount } = await pool.query({ ...ACK, values: [key, url.searchParams.get('lease_id')] });
    return rowCount === 1 ? answer(res, 200, { status: 'acked' }) : answer(res, 404, { error: 'not_found' });
  }
  answer(res, 404, { error: 'not_found' });
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: Error) => answer(res, 500, { error: error.message }));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  pool.end().finally(() => process.exit(0));
});
