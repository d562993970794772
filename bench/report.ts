import type { Options } from './options.js';
import type { Summary } from './stats.js';

export interface Measurement {
  readonly prefix: string;
  /** Measured operations that completed (cycles, sends or acks, by mode). */
  readonly completed: number;
  /** Wall time of the measured part only, warm-up excluded. */
  readonly seconds: number;
  readonly stoppedEarly: boolean;
  /** In the order the table shows them. */
  readonly ops: Readonly<Record<string, Summary>>;
}

const UNITS: Readonly<Record<Options['mode'], string>> = {
  cycle: 'cycles',
  send: 'messages sent',
  drain: 'messages acked',
  push: 'messages pushed',
};

/** The human table, the throughput line, then one line of JSON, which must stay last for scripts. */
export function formatReport(options: Options, measurement: Measurement): string {
  const lines = [
    `mode ${options.mode}, auth ${options.auth}, ${options.concurrency} workers, count ${options.count} (first ${options.warmup} ` +
      `not measured), ${options.url} (agents ${measurement.prefix}-*)`,
    '',
    formatRow(['op', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms']),
    ...Object.entries(measurement.ops).map(([op, s]) =>
      formatRow([op, String(s.count), ...[s.p50, s.p95, s.p99, s.max].map(formatMs)]),
    ),
    '',
  ];
  if (measurement.stoppedEarly) {
    const planned = options.count - options.warmup;
    lines.push(
      `stopped by --max-seconds ${options.maxSeconds}: ` +
        `${measurement.completed} of ${planned} measured ${UNITS[options.mode]} completed`,
    );
  }
  lines.push(
    `throughput: ${throughput(measurement).toFixed(1)} msg/s ` +
      `(${measurement.completed} ${UNITS[options.mode]} in ${measurement.seconds.toFixed(2)} s)`,
    JSON.stringify(toJson(options, measurement)),
  );
  return lines.join('\n');
}

function toJson(options: Options, measurement: Measurement) {
  return {
    mode: options.mode,
    auth: options.auth,
    url: options.url,
    prefix: measurement.prefix,
    concurrency: options.concurrency,
    count: options.count,
    warmup: options.warmup,
    completed: measurement.completed,
    stopped_early: measurement.stoppedEarly,
    seconds: round(measurement.seconds, 3),
    msg_per_sec: round(throughput(measurement), 1),
    ops: Object.fromEntries(Object.entries(measurement.ops).map(([op, s]) => [op, summaryJson(s)])),
  };
}

/** A summary as the closing JSON lines write it: milliseconds to the microsecond. */
export function summaryJson(s: Summary) {
  return {
    p50: round(s.p50, 3),
    p95: round(s.p95, 3),
    p99: round(s.p99, 3),
    max: round(s.max, 3),
    count: s.count,
  };
}

function throughput(measurement: Measurement): number {
  return measurement.seconds > 0 ? measurement.completed / measurement.seconds : 0;
}

function formatRow([op, ...figures]: readonly string[]): string {
  return `${(op ?? '').padEnd(6)}${figures.map((figure) => figure.padStart(10)).join('')}`;
}

export function formatMs(ms: number): string {
  return Number.isFinite(ms) ? ms.toFixed(2) : '-';
}

/** NaN stays NaN, so JSON.stringify writes null for an operation with no samples. */
export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
