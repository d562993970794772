/**
 * What `npm run bench` prints: a line per leg and round as it goes, then, per leg over all its
 * rounds, two Markdown tables (throughput and CPU; latency), the ratios the relay is judged by,
 * the relay's memory, and one closing line of JSON for scripts.
 */
import type { CompareOptions } from './compare-options.js';
import type { LegName } from './legs/leg.js';
import type { Memory } from './proc.js';
import { formatMs, round, summaryJson } from './report.js';
import { LatencyLog, type Summary } from './stats.js';
import type { Drive } from './workload.js';

/** CPU milliseconds spent during one measured run; undefined where there is nothing to measure. */
export interface Cpu {
  readonly pg: number | undefined;
  /** The process serving the leg over HTTP: the relay, or raw-http's server; 0 where there is none. */
  readonly server: number | undefined;
  readonly load: number;
}

export interface LegRun {
  readonly leg: LegName;
  readonly round: number;
  readonly messages: number;
  readonly drive: Drive;
  readonly cpu: Cpu;
}

const OPS = ['send', 'lease', 'ack', 'e2e'] as const;

interface LegSummary {
  readonly msgPerSec: number;
  readonly sendRate: number;
  readonly ops: Record<(typeof OPS)[number], Summary>;
  /** CPU milliseconds per 1,000 messages. */
  readonly cpu: { pg: number | undefined; server: number | undefined; load: number };
  readonly emptyLeases: number;
  readonly rounds: number[];
}

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const rate = (run: LegRun) => run.messages / run.drive.seconds;
const perThousand = (runs: readonly LegRun[], pick: (cpu: Cpu) => number | undefined) => {
  const values = runs.map((run) => pick(run.cpu));
  if (values.some((v) => v === undefined)) return undefined;
  const messages = runs.reduce((sum, run) => sum + run.messages, 0);
  return ((values as number[]).reduce((a, b) => a + b, 0) * 1000) / messages;
};

export function formatRound(run: LegRun, rounds: number): string {
  const p95 = (log: LatencyLog) => formatMs(log.summarize().p95);
  const cpu = (ms: number | undefined) => (ms === undefined ? '-' : ((ms * 1000) / run.messages).toFixed(0));
  return (
    `round ${run.round}/${rounds} ${run.leg.padEnd(11)} ${rate(run).toFixed(1).padStart(8)} msg/s` +
    `  p95 send ${p95(run.drive.send)} lease ${p95(run.drive.lease)} ack ${p95(run.drive.ack)}` +
    ` e2e ${p95(run.drive.e2e)} ms  CPU ms/1k msg: pg ${cpu(run.cpu.pg)} server ${cpu(run.cpu.server)}` +
    ` load ${cpu(run.cpu.load)}  empty leases ${run.drive.emptyLeases}`
  );
}

export function summarizeLeg(runs: readonly LegRun[]): LegSummary {
  const pooled = (op: (typeof OPS)[number]) => LatencyLog.merge(runs.map((run) => run.drive[op])).summarize();
  return {
    msgPerSec: median(runs.map(rate)),
    sendRate: median(runs.map((run) => run.messages / run.drive.sendSeconds)),
    ops: { send: pooled('send'), lease: pooled('lease'), ack: pooled('ack'), e2e: pooled('e2e') },
    cpu: {
      pg: perThousand(runs, (cpu) => cpu.pg),
      server: perThousand(runs, (cpu) => cpu.server),
      load: perThousand(runs, (cpu) => cpu.load) as number,
    },
    emptyLeases: runs.reduce((sum, run) => sum + run.drive.emptyLeases, 0),
    rounds: runs.map((run) => round(rate(run), 1)),
  };
}

const triple = (s: Summary) => `${formatMs(s.p50)} / ${formatMs(s.p95)} / ${formatMs(s.p99)}`;
const cpuCell = (ms: number | undefined) => (ms === undefined ? '-' : ms.toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

export function formatSummary(
  options: CompareOptions,
  legs: ReadonlyMap<LegName, LegSummary>,
  skipped: ReadonlyMap<LegName, string>,
  memory: { idle: Memory; after: Memory } | undefined,
): string {
  const loop = options.rate === undefined ? 'closed loop' : `open loop at ${options.rate} msg/s`;
  const lines = [
    '',
    `${options.messages} messages of ~200 B per leg and round, ${options.concurrency} producers + ` +
      `${options.concurrency} consumers, ${loop}, ${options.rounds} round(s), ${options.db}` +
      (options.history ? `, ${options.history} acked messages of history in the relay's table` : ''),
    '',
    '| leg | msg/s (median of rounds) | send rate | PG CPU ms / 1k msg | server CPU ms / 1k msg | load generator CPU ms / 1k msg |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [leg, s] of legs) {
    lines.push(
      `| ${leg} | ${s.msgPerSec.toFixed(1)} | ${s.sendRate.toFixed(1)} | ${cpuCell(s.cpu.pg)} | ` +
        `${cpuCell(s.cpu.server)} | ${cpuCell(s.cpu.load)} |`,
    );
  }
  lines.push(
    '',
    '| leg | send p50 / p95 / p99 ms | lease (PULL) p50 / p95 / p99 ms | ack p50 / p95 / p99 ms | end to end p50 / p95 / p99 ms |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [leg, s] of legs) {
    lines.push(`| ${leg} | ${OPS.map((op) => triple(s.ops[op])).join(' | ')} |`);
  }
  lines.push('');
  if (options.rate !== undefined) {
    for (const [leg, s] of legs) {
      lines.push(
        `${leg} at ${options.rate} msg/s: sent at ${s.sendRate.toFixed(1)} msg/s, ` +
          `p95 SEND ${formatMs(s.ops.send.p95)} ms, p95 PULL ${formatMs(s.ops.lease.p95)} ms`,
      );
    }
  }
  for (const [name, value] of ratios(legs))
    if (value !== undefined) lines.push(`${name}: ${value.toFixed(2)}×`);
  for (const [leg, reason] of skipped) lines.push(`${leg} skipped: ${reason}`);
  if (memory) {
    lines.push(
      `relay memory (${options.db}): RSS idle ${memory.idle.rssMiB.toFixed(1)} MiB, ` +
        `peak under load ${memory.after.peakMiB.toFixed(1)} MiB, after load ${memory.after.rssMiB.toFixed(1)} MiB`,
    );
  }
  lines.push(JSON.stringify(toJson(options, legs, skipped, memory)));
  return lines.join('\n');
}

function ratios(legs: ReadonlyMap<LegName, LegSummary>): [string, number | undefined][] {
  const msgs = (leg: LegName) => legs.get(leg)?.msgPerSec;
  const pg = (leg: LegName) => legs.get(leg)?.cpu.pg;
  return [
    ['relay / raw msg/s', ratio(msgs('relay'), msgs('raw'))],
    ['raw-http / raw msg/s (the ceiling of HTTP here)', ratio(msgs('raw-http'), msgs('raw'))],
    ['relay / raw-http msg/s', ratio(msgs('relay'), msgs('raw-http'))],
    ['relay / pgboss msg/s', ratio(msgs('relay'), msgs('pgboss'))],
    ['relay-batch / raw-batch msg/s', ratio(msgs('relay-batch'), msgs('raw-batch'))],
    ['PG CPU per message relay / raw', ratio(pg('relay'), pg('raw'))],
  ];
}

function toJson(
  options: CompareOptions,
  legs: ReadonlyMap<LegName, LegSummary>,
  skipped: ReadonlyMap<LegName, string>,
  memory: { idle: Memory; after: Memory } | undefined,
) {
  const cpu = (ms: number | undefined) => (ms === undefined ? null : round(ms, 1));
  return {
    options,
    legs: Object.fromEntries(
      [...legs].map(([leg, s]) => [
        leg,
        {
          msg_per_sec: round(s.msgPerSec, 1),
          send_rate: round(s.sendRate, 1),
          rounds_msg_per_sec: s.rounds,
          ops: Object.fromEntries(OPS.map((op) => [op, summaryJson(s.ops[op])])),
          cpu_ms_per_1k: { pg: cpu(s.cpu.pg), server: cpu(s.cpu.server), load: cpu(s.cpu.load) },
          empty_leases: s.emptyLeases,
        },
      ]),
    ),
    ratios: Object.fromEntries(
      ratios(legs).map(([name, value]) => [name, value === undefined ? null : round(value, 3)]),
    ),
    skipped: Object.fromEntries(skipped),
    relay_memory_mib: memory && {
      idle_rss: round(memory.idle.rssMiB, 1),
      peak: round(memory.after.peakMiB, 1),
      after_rss: round(memory.after.rssMiB, 1),
    },
  };
}
