/**
 * The figures in docs/performance.md, reproduced end to end (`npm run bench:suite`): a throwaway
 * PostgreSQL server, a relay process on it, the full cycle at concurrency 8 on an empty table,
 * then the same run again with 1,000,000 acked messages in the very inboxes being pulled.
 * Relay, database and load share this machine, as they do in the figures.
 */
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/support/postgres-server.js';
import { type BenchRelay, runBench, seedHistory, startRelay } from './relay-process.js';

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

/** History lands in the benchmark's own inboxes, the senders' and recipients' alike, as run.ts names them. */
async function seed(databaseUrl: string, prefix: string, count: number) {
  const agents = Array.from({ length: Number(values.concurrency) }, (_, i) => [
    `${prefix}-s${i}`,
    `${prefix}-r${i}`,
  ]);
  const seconds = await seedHistory(databaseUrl, agents.flat(), count);
  console.log(`seeded ${count} acked messages in ${seconds.toFixed(1)} s`);
}

const server = await startPostgres({ durable: true });
let relay: BenchRelay | undefined;
try {
  relay = await startRelay({ DATABASE_URL: server.url });
  const count = values.count;
  const empty = bench(relay.url, ['--count', count]);
  await seed(server.url, empty.prefix, Number(values.history));
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
