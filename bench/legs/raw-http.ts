/**
 * `raw-http`: the `raw` leg's statements served over loopback HTTP by bench/raw-http-server.ts, a
 * server that does nothing else, driven by the same node:http client as the relay. Between `raw`
 * and `relay` it shows what HTTP alone costs here (three requests per message, each a round trip
 * between processes), and so the most any HTTP relay on this machine could reach.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { BenchFailure, exchange } from '../relay-client.js';
import { payload, type Queue } from '../workload.js';
import { EMPTY_BACKOFF_MS, type LegContext, type OpenedLeg, type OpenLeg, POOL_SIZE } from './leg.js';
import { SCHEMA } from './raw.js';

type Leased = { readonly n: number; readonly id: string; readonly leaseId: string };

async function startServer(databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/raw-http-server.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, POOL_SIZE: String(POOL_SIZE) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(() => {
      throw new BenchFailure('raw-http: the server exited before it listened');
    }),
  ])) as [Buffer];
  return { child, url: `http://127.0.0.1:${String(line).trim()}` };
}

export const rawHttpLeg: OpenLeg = async (context: LegContext): Promise<OpenedLeg | string> => {
  if (!context.databaseUrl) return 'needs PostgreSQL (--db postgres)';
  const db = new pg.Client({ connectionString: context.databaseUrl });
  await db.connect();
  await db.query(SCHEMA);
  const server = await startServer(context.databaseUrl);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const call = async (path: string, expected: readonly number[], body = '') => {
    const response = await exchange(agent, `${server.url}${path}`, 'POST', {}, body);
    if (!expected.includes(response.status))
      throw new BenchFailure(`raw-http: POST ${path} answered ${response.status}: ${response.text}`);
    return response;
  };
  const queue: Queue<Leased> = {
    async send(p, [n = 0]) {
      await call(`/send/inbox-${p}`, [201], JSON.stringify(payload(n)));
    },
    async lease(c) {
      const { status, text } = await call(`/lease/inbox-${c}`, [200, 204]);
      if (status === 204) {
        await sleep(EMPTY_BACKOFF_MS);
        return [];
      }
      const row = JSON.parse(text) as { id: string; lease_id: string; body: { n: number } };
      return [{ n: row.body.n, id: row.id, leaseId: row.lease_id }];
    },
    async ack(_c, [leased]) {
      if (leased) await call(`/ack/${leased.id}?lease_id=${leased.leaseId}`, [200]);
    },
  };
  return {
    queue,
    server: server.child.pid,
    clean: async () => {
      await db.query('truncate bench.queue');
    },
    close: async () => {
      agent.destroy();
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM');
      await exited;
      await db.end();
    },
  };
};
