/**
 * The "Authentication overhead" figures in docs/performance.md (`npm run bench:auth`): one relay
 * on a durable throwaway PostgreSQL, the full send-pull-ack cycle at concurrency 1 under each way
 * of authenticating, in interleaved rounds so drift hits every mode alike. Overhead is a mode's
 * median latency minus the admin key's, whose check is a single constant-time comparison.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres } from '../test/support/postgres-server.js';
import { type BenchRelay, runBench, startRelay } from './relay-process.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' } },
});
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef-0123456789';
// High enough never to refuse, so the metered runs measure the counter's cost and nothing else.
const POLICY = 'tiers:\n  metered:\n    requests_per_minute: 100000000\n';

const RUNS = [
  { name: 'admin key (baseline)', auth: 'admin', tier: 'unlimited' },
  { name: 'API key, unlimited tier', auth: 'apikey', tier: 'unlimited' },
  { name: 'API key, metered tier', auth: 'apikey', tier: 'metered' },
  { name: 'JWT (HS256), unlimited tier', auth: 'jwt', tier: 'unlimited' },
  { name: 'HMAC, unlimited tier', auth: 'hmac', tier: 'unlimited' },
  { name: 'HMAC, metered tier', auth: 'hmac', tier: 'metered' },
] as const;
const OPS = ['send', 'pull', 'ack'] as const;

/** Runs bench/run.ts and returns the p50 of each operation from its closing JSON line. */
function p50s(url: string, run: (typeof RUNS)[number], count: string): Record<(typeof OPS)[number], number> {
  const summary = runBench(url, [
    '--jwt-secret',
    JWT_SECRET,
    '--concurrency',
    '1',
    '--count',
    count,
    '--warmup',
    '300',
    '--auth',
    run.auth,
    '--tier',
    run.tier,
  ]);
  return Object.fromEntries(OPS.map((op) => [op, summary.ops[op].p50])) as Record<
    (typeof OPS)[number],
    number
  >;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ms = (x: number) => x.toFixed(3);

const dir = mkdtempSync(join(tmpdir(), 'admp-bench-auth-'));
const policyFile = join(dir, 'policy.yaml');
writeFileSync(policyFile, POLICY);
const server = await startPostgres({ durable: true });
let relay: BenchRelay | undefined;
try {
  relay = await startRelay({ DATABASE_URL: server.url, JWT_SECRET, POLICY_FILE: policyFile });
  const samples = new Map<string, Record<string, number>[]>();
  // Round 0 warms the relay (JIT, pools, caches) and is thrown away; later rounds rotate the order.
  for (let round = 0; round <= Number(values.rounds); round++) {
    const order = RUNS.map((_, i) => RUNS[(i + round) % RUNS.length] as (typeof RUNS)[number]);
    for (const run of order) {
      const result = p50s(relay.url, run, round === 0 ? '600' : values.count);
      if (round === 0) continue;
      samples.set(run.name, [...(samples.get(run.name) ?? []), result]);
      console.error(
        `round ${round}: ${run.name}: ${OPS.map((op) => `${op} ${ms(result[op])}`).join(', ')} ms`,
      );
    }
  }
  const medians = new Map(
    RUNS.map(({ name }) => [
      name,
      Object.fromEntries(
        OPS.map((op) => [op, median((samples.get(name) ?? []).map((r) => r[op] as number))]),
      ),
    ]),
  );
  const base = medians.get(RUNS[0].name) as Record<string, number>;
  console.log('| credential | send p50 | pull p50 | ack p50 | added per request (median of the three) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, m] of medians) {
    const added = median(OPS.map((op) => (m[op] as number) - (base[op] as number)));
    console.log(
      `| ${name} | ${OPS.map((op) => `${ms(m[op] as number)} ms`).join(' | ')} | ${name === RUNS[0].name ? '—' : `${ms(added)} ms`} |`,
    );
  }
  console.log(JSON.stringify(Object.fromEntries(medians)));
} finally {
  relay?.process.kill('SIGTERM');
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}
