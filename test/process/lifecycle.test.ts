import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  createDatabase,
  envelope,
  type RelayProcess,
  registerAgent,
  request,
  sleep,
  spawnRelay,
  stopRelay,
  withClient,
} from './relay-process.js';

let database: Awaited<ReturnType<typeof createDatabase>>;
const started: RelayProcess[] = [];

const start = async (options: Parameters<typeof spawnRelay>[0] = {}) => {
  const relay = await spawnRelay({
    waitForHealth: false,
    ...options,
    env: { DATABASE_URL: database.url, ...options.env },
  });
  started.push(relay);
  return relay;
};

beforeAll(async () => {
  database = await createDatabase();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map(stopRelay));
});
afterAll(async () => {
  await database?.drop();
});

/**
 * Waits for an exit, failing with the relay's output when none comes in `ms`: generous, since it
 * stands for "never", not for how fast a process exits on a busy machine.
 */
async function exitWithin(relay: RelayProcess, ms = 25_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`relay still running after ${ms} ms; stderr:\n${relay.stderr()}`)),
      ms,
    );
  });
  try {
    return await Promise.race([relay.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('starting', () => {
  it('starts and answers /health on a ready database', async () => {
    const relay = await spawnRelay({ env: { DATABASE_URL: database.url } });
    started.push(relay);
    const health = await request(relay.url, 'GET', '/health', null);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'healthy', version: expect.any(String) });
    expect(health.body.version.length).toBeGreaterThan(0);
  });

  it('refuses to start in production without API_KEY', async () => {
    const relay = await start({ env: { NODE_ENV: 'production', API_KEY: undefined } });
    const exit = await exitWithin(relay);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(relay.stderr()).toMatch(/^\s*API_KEY: /m);
  });

  it('lists every bad environment key at once', async () => {
    const relay = await start({ env: { PORT: 'abc', MAX_ATTEMPTS: '0' } });
    const exit = await exitWithin(relay);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(relay.stderr()).toMatch(/^\s*PORT: /m);
    expect(relay.stderr()).toMatch(/^\s*MAX_ATTEMPTS: /m);
  });
});

type Outcome = { id: string; status: number } | { id: string; error: string };

/** One SEND on a connection of its own, so a refusal is a refusal of this request and nothing else. */
function sendOnOwnConnection(
  relay: RelayProcess,
  apiKey: string,
  body: Record<string, unknown>,
  onWritten: () => void,
): Promise<Outcome> {
  const id = body.id as string;
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: relay.port,
        method: 'POST',
        path: `/v1/agents/${(body.to as string).slice('agent://'.length)}/messages`,
        agent: false,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
        timeout: 15_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ id, status: res.statusCode ?? 0 }));
        res.on('error', (e: NodeJS.ErrnoException) => resolve({ id, error: e.code ?? e.message }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ id, error: e.code ?? e.message }));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.end(payload, onWritten);
  });
}

/** Resolves once a new connection to the port is refused: the relay has closed its listener. */
async function listenerClosed(port: number, withinMs: number) {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    await sleep(10);
  }
  throw new Error(`port ${port} still accepts connections after ${withinMs} ms`);
}

describe('stopping', () => {
  it('finishes an in-flight request on SIGTERM and exits 0', { timeout: 90_000 }, async () => {
    const relay = await spawnRelay({ env: { DATABASE_URL: database.url, SHUTDOWN_TIMEOUT_SEC: '10' } });
    started.push(relay);
    const sender = await registerAgent(relay.url, 'term.sender');
    const receiver = await registerAgent(relay.url, 'term.receiver');
    // One SEND first, so the burst finds the sender's key verified and cached.
    const warm = envelope(sender.id, receiver.id);
    const warmed = await request(
      relay.url,
      'POST',
      `/v1/agents/${receiver.id}/messages`,
      sender.apiKey,
      warm,
    );
    expect(warmed.status).toBe(201);

    // Holding the message table makes every SEND that reaches the database wait there, so the
    // SIGTERM certainly lands while requests are in flight.
    const locker = new pg.Client({ connectionString: database.url });
    const watcher = new pg.Client({ connectionString: database.url });
    await Promise.all([locker.connect(), watcher.connect()]);
    const waiting = async () =>
      (
        await watcher.query<{ n: number }>(
          // SENDs only (named by their statement's leading comment): a lease sweep may be waiting
          // on the same lock.
          `select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.relation = 'message'::regclass and not l.granted and a.query like '/* admp_send */%'`,
        )
      ).rows[0]?.n ?? 0;
    let outcomes: Outcome[];
    let inFlight = 0;
    try {
      await locker.query('begin');
      await locker.query('lock table message in exclusive mode');

      let written = 0;
      let allWritten!: () => void;
      const written50 = new Promise<void>((resolve) => {
        allWritten = resolve;
      });
      const burst = Array.from({ length: 50 }, () =>
        sendOnOwnConnection(relay, sender.apiKey, envelope(sender.id, receiver.id), () => {
          if (++written === 50) allWritten();
        }),
      );
      await written50;
      for (let i = 0; i < 500 && (await waiting()) === 0; i++) await sleep(20);

      relay.kill('SIGTERM');
      await listenerClosed(relay.port, 15_000);
      inFlight = await waiting();
      await locker.query('commit');
      outcomes = await Promise.all(burst);
    } finally {
      await locker.end();
      await watcher.end();
    }
    // Exit 0: the relay finished its requests inside SHUTDOWN_TIMEOUT_SEC instead of giving up on them.
    const exit = await exitWithin(relay);

    const ids = outcomes.map((o) => o.id);
    const stored = new Set(
      await withClient(database.url, async (c) => {
        const r = await c.query<{ id: string }>('select id from message where id = any($1::text[])', [ids]);
        return r.rows.map((row) => row.id);
      }),
    );
    const accepted = outcomes.filter((o) => 'status' in o && o.status === 201).map((o) => o.id);
    // Closing the listener resets connections still waiting in the kernel's accept queue: the
    // relay never read those requests, so for the client they are refusals, safe to retry. A cut
    // connection whose message was stored is an accepted request the relay dropped.
    const unexpected = outcomes.filter(
      (o) =>
        ('status' in o && o.status !== 201) ||
        ('error' in o && (stored.has(o.id) || !['ECONNREFUSED', 'ECONNRESET'].includes(o.error))),
    );
    expect(inFlight, 'SENDs waiting in the database when the listener closed').toBeGreaterThan(0);
    expect(unexpected).toEqual([]);
    expect(accepted.length).toBeGreaterThanOrEqual(inFlight);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
  });
});

describe('embedded PGlite', () => {
  let dataDir: string | undefined;
  afterEach(async () => {
    // The relays first: a data directory is removed only once nothing has it open.
    await Promise.all(started.splice(0).map(stopRelay));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('runs on embedded PGlite when DATABASE_URL is unset, and keeps messages across a restart', {
    timeout: 150_000,
  }, async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'admp-pglite-'));
    const env = { DATABASE_URL: undefined, ADMP_DATA_DIR: dataDir };
    const first = await spawnRelay({ env });
    started.push(first);
    const sender = await registerAgent(first.url, 'lite.sender');
    const receiver = await registerAgent(first.url, 'lite.receiver');
    const sent = envelope(sender.id, receiver.id, { body: { kept: true } });
    const r = await request(first.url, 'POST', `/v1/agents/${receiver.id}/messages`, sender.apiKey, sent);
    expect(r.status).toBe(201);
    first.kill('SIGTERM');
    expect(await exitWithin(first)).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

    const second = await spawnRelay({ env });
    started.push(second);
    const pulled = await request(second.url, 'POST', `/v1/agents/${receiver.id}/inbox/pull`, receiver.apiKey);
    expect(pulled.status).toBe(200);
    expect(pulled.body).toMatchObject({ id: sent.id, body: { kept: true }, status: 'leased' });
    const agents = await request(second.url, 'GET', '/v1/agents', ADMIN_KEY);
    expect(agents.body.agents.map((a: { agent_id: string }) => a.agent_id)).toEqual([
      'lite.receiver',
      'lite.sender',
    ]);
  });
});
