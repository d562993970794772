/**
 * What observability costs (`npm run bench:observe`): the full cycle on a throwaway durable
 * PostgreSQL server with metrics, the audit of every message transition, info-level logs and a
 * six-rule policy on, against the same with all of them off, alternating runs so that drift in
 * the machine's load falls on both sides. The figures are in docs/performance.md.
 */
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/support/postgres-server.js';
import { runBench, startRelay } from './relay-process.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '8000' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
  },
});

const SETTINGS = {
  off: { METRICS_ENABLED: 'false', AUDIT_MESSAGES: 'false', LOG_LEVEL: 'warn' },
  on: {
    METRICS_ENABLED: 'true',
    AUDIT_MESSAGES: 'true',
    LOG_LEVEL: 'info',
    POLICY_FILE: 'bench/observe.policy.yaml',
  },
} as const;

const server = await startPostgres({ durable: true });
const results: Record<keyof typeof SETTINGS, number[]> = { off: [], on: [] };
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const side of ['off', 'on'] as const) {
      // Log lines go where a deployment's would: to a pipe that something else drains.
      const relay = await startRelay({ DATABASE_URL: server.url, ...SETTINGS[side] }, { stdout: 'ignore' });
      try {
        const run = runBench(relay.url, ['--count', values.count, '--concurrency', values.concurrency]);
        results[side].push(run.msg_per_sec);
        console.log(
          `round ${round + 1} ${side.padEnd(3)} ${run.msg_per_sec.toFixed(1)} msg/s, p95 send ${run.ops.send.p95} ms`,
        );
      } finally {
        relay.process.kill('SIGTERM');
        await new Promise((resolve) => relay.process.once('exit', resolve));
      }
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const ratio = mean(results.on) / mean(results.off);
  console.log(
    JSON.stringify({
      off_msg_per_sec: Number(mean(results.off).toFixed(1)),
      on_msg_per_sec: Number(mean(results.on).toFixed(1)),
      on_over_off: Number(ratio.toFixed(3)),
      rounds: results,
    }),
  );
} finally {
  server.stop();
}
