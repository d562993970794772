/**
 * The figures in docs/performance.md, reproduced end to end (`npm run bench:suite`): a throwaway
 * PostgreSQL server, a relay process on it, the full cycle at concurrency 8 on an empty table,
 * then the same run again with 1,000,000 acked messages in the very inboxes being pulled.
 * Relay, database and load share this machine, as they do in the figures.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.js';
import { type BenchRelay, runBench, startRelay } from './relay-process.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    history: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '8' },
  },
});

/** The full cycle at the chosen concurrency; its report is printed as it goes. */
const bench = (url: string, extra: string[]) =>
  runBench(url, ['--concurrency', values.concurrency, ...extra], true);

/** History lands in the benchmark's own inboxes: the worst case for the ready query. */
async function seedHistory(databaseUrl: string, prefix: string, count: number) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  await client.query(
    `insert into message (id, to_agent_id, from_agent_id, type, subject, body, timestamp, ttl_sec, expires_at,
       fingerprint, status, max_attempts, acked_at, finished_at)
     select gen_random_uuid()::text, a.id, a.id, 'task.request', 'history', '{"n":1}', now()::text, 86400,
       now() + interval '1 day', md5(g::text), 'acked', 3, now(), now()
     from generate_series(1, $2::int) g
     join lateral (select id from agent where id like $1 || '-%' order by id
                   offset (g % (select count(*) from agent where id like $1 || '-%')) limit 1) a on true`,
    [prefix, count],
  );
  await client.query('vacuum analyze message');
  await client.end();
  console.log(`seeded ${count} acked messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const server = await startPostgres({ durable: true });
let relay: BenchRelay | undefined;
try {
  relay = await startRelay({ DATABASE_URL: server.url });
  const count = values.count;
  const empty = bench(relay.url, ['--count', count]);
  await seedHistory(server.url, empty.prefix, Number(values.history));
  const full = bench(relay.url, ['--count', count, '--prefix', empty.prefix]);
  const ratio = full.ops.pull.p95 / empty.ops.pull.p95;
  console.log(
    JSON.stringify({
      empty: { msg_per_sec: empty.msg_per_sec, ops: empty.ops },
      history: { messages: Number(values.history), msg_per_sec: full.msg_per_sec, ops: full.ops },
      pull_p95_ratio: Number(ratio.toFixed(2)),
    }),
  );
} finally {
  relay?.process.kill('SIGTERM');
  server.stop();
}
