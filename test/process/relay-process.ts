import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { envelope, sleep } from '../support/envelope.js';
import { TEMPLATE_DB, withDatabase } from '../support/global-postgres.js';
import { freePort } from '../support/postgres-server.js';

export { envelope, sleep };

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ADMIN_KEY = 'process-admin-key-0123456789';

/**
 * Builds the checkout's JS SDK. A build in a copy of the checkout that borrows the checkout's
 * node_modules finds @agent-dispatch/client there, and that link leads to the checkout's sdk-js,
 * not the copy's: its dist/ must exist, as it does in an image or an installed package.
 */
export function buildCheckoutSdk(): void {
  // Once: the two test files that need it may run side by side, and a build empties dist/ first.
  if (existsSync(fileURLToPath(new URL('../../sdk-js/dist/esm/index.js', import.meta.url)))) return;
  execSync('nice -n 10 npm run -s build:sdk-js', { cwd: REPO_ROOT, stdio: 'pipe', timeout: 240_000 });
}

// Settings the relay reads; the spawned process gets only the ones a test names, never the
// runner's own (vitest sets NODE_ENV, a developer's shell may set DATABASE_URL).
const RELAY_KEYS = [
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'PORT',
  'NODE_ENV',
  'LOG_LEVEL',
  'API_KEY',
  'SECRET_KEY',
  'POLICY_FILE',
  'ADMP_DATA_DIR',
  'LEASE_RECLAIM_INTERVAL_SEC',
  'TTL_CHECK_INTERVAL_SEC',
  'MAX_ATTEMPTS',
  'MESSAGE_RETENTION_SEC',
  'SHUTDOWN_TIMEOUT_SEC',
  'AUDIT_RETENTION_SEC',
  'POLICY_REFRESH_SEC',
  'HEARTBEAT_INTERVAL_SEC',
  'WS_MAX_IN_FLIGHT',
  'NOTIFY_DEBOUNCE_MS',
];
const RELAY_PREFIXES = ['JWT_', 'NEON_', 'METRICS_', 'VITEST'];

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface RelayProcess {
  url: string;
  port: number;
  pid: number;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<Exit>;
  /** Milliseconds from spawn to the first 200 from /health (0 when not waited for). */
  readyAfterMs: number;
  stdout(): string;
  stderr(): string;
}

const running = new Set<RelayProcess>();

// A test run that dies between spawn and afterAll must not leave relays holding ports.
process.once('exit', () => {
  for (const relay of running) relay.kill('SIGKILL');
});

export interface SpawnOptions {
  /** Variables set, or with `undefined` removed, on top of the test defaults. */
  env?: Record<string, string | undefined>;
  /** Wait for /health to answer 200 (default true). */
  waitForHealth?: boolean;
  healthTimeoutMs?: number;
}

/** Starts `node --import tsx src/entry/node.ts` as `npm start` does, on a free port. */
export async function spawnRelay(options: SpawnOptions = {}): Promise<RelayProcess> {
  const port = await freePort();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !RELAY_KEYS.includes(k) && !RELAY_PREFIXES.some((prefix) => k.startsWith(prefix)),
    ),
  );
  const env: Record<string, string> = {};
  const wanted: Record<string, string | undefined> = {
    ...inherited,
    PORT: String(port),
    API_KEY: ADMIN_KEY,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    LEASE_RECLAIM_INTERVAL_SEC: '1',
    TTL_CHECK_INTERVAL_SEC: '1',
    ...options.env,
  };
  for (const [k, v] of Object.entries(wanted)) if (v !== undefined) env[k] = v;

  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      err += String(error);
      resolve({ code: null, signal: null });
    });
  });
  let done = false;

  const relay: RelayProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    kill(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
    },
    exited,
    readyAfterMs: 0,
    stdout: () => out,
    stderr: () => err,
  };
  running.add(relay);
  void exited.then(() => {
    done = true;
    running.delete(relay);
  });

  if (options.waitForHealth === false) return relay;
  // Generous: a relay that cannot start never answers; one on a busy machine answers late.
  const timeout = options.healthTimeoutMs ?? 60_000;
  for (;;) {
    if (done) {
      throw new Error(
        `relay exited before answering /health (${JSON.stringify(await exited)}):\n${err}${out}`,
      );
    }
    try {
      const r = await fetch(`${relay.url}/health`, { signal: AbortSignal.timeout(1_000) });
      await r.arrayBuffer();
      if (r.status === 200) {
        relay.readyAfterMs = Date.now() - started;
        return relay;
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() - started > timeout) {
      relay.kill('SIGKILL');
      throw new Error(`relay did not answer /health within ${timeout} ms; stderr:\n${err}\nstdout:\n${out}`);
    }
    await sleep(50);
  }
}

/** Stops a relay for good, whatever state it is in; safe to call twice. */
export async function stopRelay(relay: RelayProcess | undefined): Promise<void> {
  if (!relay) return;
  relay.kill('SIGKILL');
  await Promise.race([relay.exited, sleep(5_000)]);
}

/** A database of its own for one test file: a clone of the migrated template, on the run's server. */
export async function createDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const server = inject('postgresUrl');
  const name = `p_${crypto.randomUUID().replaceAll('-', '')}`;
  await withClient(server, (c) => c.query(`create database ${name} template ${TEMPLATE_DB}`));
  return {
    url: withDatabase(server, name),
    name,
    drop: () =>
      withClient(server, (c) => c.query(`drop database if exists ${name} with (force)`)).then(
        () => undefined,
        () => undefined,
      ),
  };
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface HttpReply<T = any> {
  status: number;
  body: T;
}

/** One JSON request; network failures reject, as fetch's do. */
export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<HttpReply<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, body: parsed as T };
}

export async function registerAgent(
  base: string,
  id: string,
  tier?: string,
): Promise<{ id: string; apiKey: string }> {
  const r = await request(base, 'POST', '/v1/agents', ADMIN_KEY, { agent_id: id, ...(tier ? { tier } : {}) });
  if (r.status !== 201) throw new Error(`register ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return { id, apiKey: r.body.api_key };
}
