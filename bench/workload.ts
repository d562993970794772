/**
 * The workload every leg of `npm run bench` runs: C producers and C consumers at once; producer i
 * stores messages for consumer i only, and consumer i leases and acks them. Producers take message
 * numbers from one shared counter, so exactly N messages are sent whatever their relative speed;
 * closed loop by default (each producer sends again as soon as its last send returned), or open
 * loop at a fixed total rate, where message n is not sent before start + n / rate.
 */
import { performance } from 'node:perf_hooks';
import { BenchFailure } from './relay-client.js';
import { LatencyLog } from './stats.js';

/** About 200 bytes of JSON, the message body of every leg. */
export const payload = (n: number) => ({ n, pad: 'x'.repeat(180) });

/** What a leg must provide: one store, seen through three calls. `L` is a leased message. */
export interface Queue<L extends { readonly n: number }> {
  /** Stores messages `ns` (one, or one batch) from producer `p`, addressed to consumer `p`. */
  send(p: number, ns: readonly number[]): Promise<void>;
  /** Leases up to one batch for consumer `c`; empty, after the leg's back-off, when there is none. */
  lease(c: number): Promise<readonly L[]>;
  ack(c: number, leased: readonly L[]): Promise<void>;
}

export interface WorkloadOptions {
  readonly messages: number;
  readonly concurrency: number;
  /** Messages per send: 1, or the batch size. */
  readonly batch: number;
  /** Total sends per second across producers; undefined for closed loop. */
  readonly rate: number | undefined;
  readonly maxSeconds: number;
}

export interface Drive {
  /** From the first send's start to the last ack's end. */
  readonly seconds: number;
  /** From the first send's start to the last send's end: the rate producers achieved. */
  readonly sendSeconds: number;
  /** Per call (a call carries a whole batch in batch legs). */
  readonly send: LatencyLog;
  /** From the call's start, or from when its first message was stored if that was later. */
  readonly lease: LatencyLog;
  readonly ack: LatencyLog;
  /** Per message, from its send's start to its ack's end. */
  readonly e2e: LatencyLog;
  /** Leases that found nothing; their time is in no figure but their CPU is. */
  readonly emptyLeases: number;
}

const sleepUntil = (at: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

export async function drive<L extends { readonly n: number }>(
  queue: Queue<L>,
  options: WorkloadOptions,
): Promise<Drive> {
  const { messages, batch, rate } = options;
  const sentAt = new Float64Array(messages);
  const storedAt = new Float64Array(messages);
  const acked = new Uint8Array(messages);
  const logs = {
    send: new LatencyLog(),
    lease: new LatencyLog(),
    ack: new LatencyLog(),
    e2e: new LatencyLog(),
  };
  const start = performance.now();
  const deadline = start + options.maxSeconds * 1000;
  let claimed = 0;
  let ackedCount = 0;
  let emptyLeases = 0;
  let lastSent = start;
  let lastAcked = start;
  let failed = false;

  const produce = async (p: number) => {
    while (claimed < messages && !failed) {
      const first = claimed;
      const ns = Array.from({ length: Math.min(batch, messages - first) }, (_, i) => first + i);
      claimed += ns.length;
      // A batch leaves once its last message is due.
      if (rate !== undefined) await sleepUntil(start + ((first + ns.length - 1) * 1000) / rate);
      const began = performance.now();
      for (const n of ns) sentAt[n] = began;
      await queue.send(p, ns);
      const ended = performance.now();
      for (const n of ns) storedAt[n] = ended;
      logs.send.record(ended - began);
      lastSent = Math.max(lastSent, ended);
    }
  };

  const consume = async (c: number) => {
    while (ackedCount < messages && !failed) {
      if (performance.now() > deadline) {
        throw new BenchFailure(`${ackedCount} of ${messages} messages acked after --max-seconds`);
      }
      const began = performance.now();
      const leased = await queue.lease(c);
      if (leased.length === 0) {
        emptyLeases++;
        continue;
      }
      const got = performance.now();
      // A message may be leased before its producer has heard the store's answer; 0 means so.
      const stored = Math.min(...leased.map((l) => storedAt[l.n] || began));
      logs.lease.record(got - Math.max(began, stored));
      await queue.ack(c, leased);
      const done = performance.now();
      logs.ack.record(done - got);
      for (const { n } of leased) {
        if (acked[n]) throw new BenchFailure(`message ${n} was leased and acked twice`);
        acked[n] = 1;
        logs.e2e.record(done - (sentAt[n] as number));
      }
      ackedCount += leased.length;
      lastAcked = done;
    }
  };

  const loops = Array.from({ length: options.concurrency }, (_, i) => [produce(i), consume(i)]).flat();
  await Promise.all(loops).catch((error: unknown) => {
    failed = true;
    throw error;
  });
  return {
    seconds: (lastAcked - start) / 1000,
    sendSeconds: (lastSent - start) / 1000,
    ...logs,
    emptyLeases,
  };
}
