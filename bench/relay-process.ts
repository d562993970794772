import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import pg from 'pg';
import { freePort } from '../test/support/postgres-server.js';

export const ADMIN_KEY = 'bench-admin-key-0123456789';
const HEALTHY_WITHIN_SEC = 60;

export interface BenchRelay {
  url: string;
  process: ChildProcess;
}

let built = false;

/**
 * Compiles the relay (and the JS SDK its MCP tools use) once per run, as `npm start`'s prestart
 * does: a relay measured under a TypeScript loader would carry the loader's memory and its
 * source-mapped stack traces.
 */
function buildRelay(): void {
  if (built) return;
  const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed with exit code ${build.status}`);
  built = true;
}

/** Starts a relay the way `npm start` does, on `port` or a free one, and waits until /health answers. */
export async function startRelay(
  env: Record<string, string>,
  options: { stdout?: 'inherit' | 'ignore'; port?: number } = {},
): Promise<BenchRelay> {
  buildRelay();
  const port = options.port ?? (await freePort());
  // BENCH_RELAY_NODE_ARGS: flags for the relay's node only, e.g. `--cpu-prof --cpu-prof-dir=prof`.
  const nodeArgs = process.env.BENCH_RELAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, 'dist/entry/node.js'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), API_KEY: ADMIN_KEY },
    stdio: ['ignore', options.stdout ?? 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded machine, PGlite's start and migrations alone can take several seconds.
  const deadline = Date.now() + HEALTHY_WITHIN_SEC * 1000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, process: child };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.exitCode !== null)
    throw new Error(`the relay exited with code ${child.exitCode} before it was healthy`);
  child.kill('SIGKILL');
  throw new Error(`the relay did not become healthy within ${HEALTHY_WITHIN_SEC} s`);
}

/**
 * Runs bench/run.ts against `url` as the admin and returns its closing JSON line; with `echo`,
 * its report is printed too.
 */
export function runBench(url: string, args: string[], echo = false): Record<string, any> {
  const run = spawnSync(
    'node_modules/.bin/tsx',
    ['bench/run.ts', '--url', url, '--admin-key', ADMIN_KEY, ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (echo) process.stdout.write(run.stdout);
  if (run.status !== 0) throw new Error(`bench/run.ts ${args.join(' ')} failed with exit code ${run.status}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string);
}

/**
 * Fills the relay's message table with `count` acked messages, spread round-robin over
 * `agentIds` (the bench's own inboxes: the worst case for the ready query), in one statement,
 * then analyzes the table as autovacuum would. Their subject is `history`, so a bench can empty
 * the table of its own messages and keep these. Resolves to the seconds it took.
 */
export async function seedHistory(databaseUrl: string, agentIds: readonly string[], count: number) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  try {
    await client.query(
      `insert into message (id, to_agent_id, from_agent_id, type, subject, body, timestamp, ttl_sec, expires_at,
         fingerprint, status, max_attempts, acked_at, finished_at)
       select gen_random_uuid()::text, a.id, a.id, 'task.request', 'history', '{"n":1}', now()::text, 86400,
         now() + interval '1 day', md5(g::text), 'acked', 3, now(), now()
       from generate_series(1, $2::int) g
       cross join lateral (select ($1::text[])[1 + g % cardinality($1::text[])] as id) a`,
      [agentIds, count],
    );
    await client.query('vacuum analyze message');
  } finally {
    await client.end();
  }
  return (Date.now() - started) / 1000;
}
