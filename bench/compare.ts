/**
 * `npm run bench`: the relay against the floor of its own database (raw SQL) and against pg-boss,
 * in one run, on one durable PostgreSQL server this script starts (or, with `--db pglite`, the
 * relay alone on its embedded database). Legs interleave round by round so that drift in the
 * machine's load falls on all of them; each measured run starts on a clean table, after an
 * unmeasured warm-up on the same connections.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.js';
import type { CompareOptions } from './compare-options.js';
import { type Cpu, formatRound, formatSummary, type LegRun, summarizeLeg } from './compare-report.js';
import { BATCH, type LegContext, type LegName, type OpenLeg, type RelayTarget } from './legs/leg.js';
import { pgbossLeg } from './legs/pgboss.js';
import { rawLeg } from './legs/raw.js';
import { rawHttpLeg } from './legs/raw-http.js';
import { relayLeg } from './legs/relay.js';
import { ownCpuMs, parentPid, postgresCpuMs, processCpuMs, readMemory } from './proc.js';
import { RelayClient } from './relay-client.js';
import { ADMIN_KEY, type BenchRelay, seedHistory, startRelay } from './relay-process.js';
import { drive } from './workload.js';

/**
 * Work a leg leaves behind lands in its own figures: the relay writes its audit rows a second
 * after the fact, and PostgreSQL's WAL writer trails the last commit.
 */
const SETTLE_MS = 1500;

const OPENERS: Readonly<Record<LegName, OpenLeg>> = {
  raw: rawLeg(1),
  'raw-http': rawHttpLeg,
  'raw-batch': rawLeg(BATCH),
  pgboss: pgbossLeg,
  relay: relayLeg(1),
  'relay-batch': relayLeg(BATCH),
};

/** One sender and one recipient per producer/consumer pair, on `unlimited` keys. */
async function registerPairs(relay: BenchRelay, concurrency: number): Promise<RelayTarget> {
  const client = new RelayClient(relay.url);
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const register = async (id: string) => {
    const issued = await client.registerAgent(ADMIN_KEY, id, 'unlimited');
    return { id, credential: { bearer: issued.apiKey } };
  };
  const pairs = Array.from({ length: concurrency }, (_, i) => i);
  return {
    client,
    senders: await Promise.all(pairs.map((i) => register(`${prefix}-s${i}`))),
    recipients: await Promise.all(pairs.map((i) => register(`${prefix}-r${i}`))),
    pid: relay.process.pid as number,
  };
}

async function findPostmaster(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    // Read while the backend is still there: it exits with the connection.
    return parentPid(rows[0]?.pid as number);
  } finally {
    await client.end();
  }
}

/** CPU so far of PostgreSQL, of the process serving a leg (if any), and of this process. */
type Meter = (server: number | undefined) => Cpu;

/** Runs one leg once: open, warm up, clean, measure. A string says why the leg cannot run. */
async function runLeg(
  leg: LegName,
  context: LegContext,
  options: CompareOptions,
  meter: Meter,
): Promise<Omit<LegRun, 'round'> | string> {
  const opened = await OPENERS[leg](context);
  if (typeof opened === 'string') return opened;
  const workload = {
    messages: options.messages,
    concurrency: options.concurrency,
    batch: leg.endsWith('-batch') ? BATCH : 1,
    rate: options.rate,
    maxSeconds: options.maxSeconds,
  };
  try {
    if (options.warmup > 0) {
      await opened.clean();
      await drive(opened.queue, { ...workload, messages: options.warmup, rate: undefined });
    }
    await opened.clean();
    const before = meter(opened.server);
    const result = await drive(opened.queue, workload);
    await sleep(SETTLE_MS);
    const after = meter(opened.server);
    const spent = (pick: (cpu: Cpu) => number | undefined) => {
      const [a, b] = [pick(after), pick(before)];
      return a === undefined || b === undefined ? undefined : a - b;
    };
    const cpu = { pg: spent((c) => c.pg), server: spent((c) => c.server), load: after.load - before.load };
    return { leg, messages: options.messages, drive: result, cpu };
  } finally {
    await opened.close();
  }
}

export async function compare(options: CompareOptions): Promise<void> {
  let server: PostgresServer | undefined;
  let relay: BenchRelay | undefined;
  const dataDir = options.db === 'pglite' ? mkdtempSync(join(tmpdir(), 'admp-bench-pglite-')) : undefined;
  try {
    server = options.db === 'postgres' ? await startPostgres({ durable: true }) : undefined;
    const databaseUrl = server?.url;
    if (options.legs.some((leg) => leg.startsWith('relay'))) {
      const env: Record<string, string> = databaseUrl
        ? { DATABASE_URL: databaseUrl }
        : { ADMP_DATA_DIR: dataDir as string };
      relay = await startRelay(env, { stdout: 'ignore' });
    }
    const relayPid = relay?.process.pid;
    const idle = relayPid ? readMemory(relayPid) : undefined;
    const target = relay ? await registerPairs(relay, options.concurrency) : undefined;
    if (options.history > 0 && databaseUrl && target) {
      const ids = target.recipients.map((agent) => agent.id);
      const seconds = await seedHistory(databaseUrl, ids, options.history);
      console.log(`seeded ${options.history} acked messages in ${seconds.toFixed(1)} s`);
    }
    const postmaster = databaseUrl ? await findPostmaster(databaseUrl) : undefined;
    const meter: Meter = (server) => ({
      pg: postmaster === undefined ? undefined : postgresCpuMs(postmaster),
      server: server === undefined ? 0 : processCpuMs(server),
      load: ownCpuMs(),
    });
    const context: LegContext = {
      databaseUrl,
      relay: target,
      concurrency: options.concurrency,
      history: options.history,
    };

    const runs: LegRun[] = [];
    const skipped = new Map<LegName, string>();
    for (let round = 1; round <= options.rounds; round++) {
      for (const leg of options.legs) {
        if (skipped.has(leg)) continue;
        const run = await runLeg(leg, context, options, meter);
        if (typeof run === 'string') {
          skipped.set(leg, run);
          console.log(`${leg} skipped: ${run}`);
          continue;
        }
        runs.push({ ...run, round });
        console.log(formatRound({ ...run, round }, options.rounds));
      }
    }
    const legs = new Map(
      options.legs
        .filter((leg) => !skipped.has(leg))
        .map((leg) => [leg, summarizeLeg(runs.filter((run) => run.leg === leg))] as const),
    );
    const memory = relayPid && idle ? { idle, after: readMemory(relayPid) } : undefined;
    console.log(formatSummary(options, legs, skipped, memory));
  } finally {
    if (relay && relay.process.exitCode === null) {
      const exited = new Promise((resolve) => relay?.process.once('exit', resolve));
      relay.process.kill('SIGTERM');
      await exited;
    }
    server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
