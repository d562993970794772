/**
 * `npm run bench:soak -- --seconds 1800 [--engine postgres|pglite]`: a relay under a steady load
 * for a long time, to see that nothing grows without bound. It measures the saturated rate of
 * send + pull + ack first (bench/run.ts, cycle mode), then holds half of it for `--seconds`,
 * sampling the relay's RSS and the size of the database (tables and indexes on PostgreSQL; on PGlite
 * the data directory's base/ and pg_wal/) every `--sample-every` seconds. RSS is read idle, before the load,
 * and again idle after it. Not run in CI: the figures are in docs/reliability.md.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.js';
import { readMemory } from './proc.js';
import { type Agent, RelayClient } from './relay-client.js';
import { ADMIN_KEY, runBench, startRelay } from './relay-process.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1800' },
    engine: { type: 'string', default: 'postgres' },
    'sample-every': { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '8' },
    rate: { type: 'string' },
    retention: { type: 'string', default: '120' },
  },
});
const SECONDS = Number(args.seconds);
const SAMPLE_EVERY_SEC = Number(args['sample-every']);
const CONCURRENCY = Number(args.concurrency);
const engine = args.engine === 'pglite' ? 'pglite' : 'postgres';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const postgres = engine === 'postgres' ? await startPostgres({ durable: true }) : undefined;
const dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'admp-soak-')) : undefined;
// Finished messages and audit rows are kept for `--retention` seconds (7 and 90 days by default),
// so a soak shorter than that reaches the steady state a long-running relay has.
const retention = {
  MESSAGE_RETENTION_SEC: String(args.retention),
  AUDIT_RETENTION_SEC: String(args.retention),
  TTL_CHECK_INTERVAL_SEC: '15',
};
const relay = await startRelay(
  { ...retention, ...(postgres ? { DATABASE_URL: postgres.url } : { ADMP_DATA_DIR: dataDir as string }) },
  { stdout: 'inherit' },
);
relay.process.once('exit', (code, signal) => {
  console.error(`soak: the relay exited (code ${code}, signal ${signal}) while under load`);
  process.exit(1);
});
process.on('exit', () => {
  relay.process.kill('SIGKILL');
  postgres?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});
const pid = relay.process.pid as number;
const rss = () => Math.round(readMemory(pid).rssMiB);

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

const sizeQuery = `select coalesce(sum(pg_table_size(c.oid)), 0)::bigint as tables,
  coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint as indexes
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and n.nspname = 'public'`;
async function databaseMiB(): Promise<{ tables: number; indexes: number } | { base: number; wal: number }> {
  const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  // PGlite's tables and indexes live in base/; pg_wal/ grows until a checkpoint recycles it.
  if (!postgres) {
    const dir = dataDir as string;
    return {
      base: mib(directoryBytes(join(dir, 'base'))),
      wal: mib(directoryBytes(join(dir, 'pg_wal'))),
    };
  }
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query(sizeQuery);
    return { tables: mib(Number(rows[0].tables)), indexes: mib(Number(rows[0].indexes)) };
  } finally {
    await client.end();
  }
}

await sleep(5000);
const idleBefore = rss();
const saturated = runBench(relay.url, ['--mode', 'cycle', '--count', '3000', '--warmup', '300']);
const rate = args.rate ? Number(args.rate) : Math.max(1, Math.floor(saturated.msg_per_sec / 2));
console.log(
  `soak: ${engine}, saturated at ${saturated.msg_per_sec} msg/s; holding ${rate} msg/s for ${SECONDS} s`,
);

const client = new RelayClient(relay.url);
const workers: { sender: Agent; recipient: Agent }[] = [];
for (let i = 0; i < CONCURRENCY; i++) {
  const agent = async (id: string) => {
    const issued = await client.registerAgent(ADMIN_KEY, id, 'unlimited');
    return { id, credential: { bearer: issued.apiKey } };
  };
  workers.push({ sender: await agent(`soak-s${i}`), recipient: await agent(`soak-r${i}`) });
}

const started = Date.now();
const end = started + SECONDS * 1000;
let done = 0;
// Each cycle has its due time; a worker that falls behind runs its cycles back to back.
let next = 0;
const loops = workers.map(async ({ sender, recipient }) => {
  while (Date.now() < end) {
    const due = started + (next++ / rate) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    await client.send(sender, recipient, done);
    const lease = await client.pull(recipient);
    if (lease) await client.ack(recipient, lease);
    done++;
  }
});

console.log('seconds\tmessages\trss_mib\tdatabase_mib');
const samples: { rss: number; db: object }[] = [];
const sampler = (async () => {
  while (Date.now() < end) {
    await sleep(Math.min(SAMPLE_EVERY_SEC * 1000, Math.max(0, end - Date.now())));
    const sample = { rss: rss(), db: await databaseMiB() };
    samples.push(sample);
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(`${seconds}\t${done}\t${sample.rss}\t${JSON.stringify(sample.db)}`);
  }
})();
await Promise.all([...loops, sampler]);
await sleep(10_000);
const summary = {
  engine,
  seconds: SECONDS,
  saturated_msg_per_sec: saturated.msg_per_sec,
  rate,
  achieved_msg_per_sec: Math.round((done / SECONDS) * 10) / 10,
  messages: done,
  rss_idle_before_mib: idleBefore,
  rss_under_load_first_mib: samples[0]?.rss,
  rss_under_load_last_mib: samples.at(-1)?.rss,
  rss_under_load_max_mib: Math.max(...samples.map((s) => s.rss)),
  rss_idle_after_mib: rss(),
  database_first: samples[0]?.db,
  database_last: samples.at(-1)?.db,
};
console.log(JSON.stringify(summary));
process.exit(0);
