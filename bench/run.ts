import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { compare } from './compare.js';
import { COMPARE_USAGE, parseCompareOptions, wantsDriver } from './compare-options.js';
import { credentialFor } from './credentials.js';
import { type Mode, type Options, parseOptions, USAGE, UsageError } from './options.js';
import { measurePush } from './push.js';
import { type Agent, BenchFailure, RelayClient } from './relay-client.js';
import { formatReport, type Measurement } from './report.js';
import { LatencyLog } from './stats.js';

/** Each worker owns one sender and one recipient, so it only ever pulls messages it sent itself. */
export interface Worker {
  readonly relay: RelayClient;
  readonly sender: Agent;
  readonly recipient: Agent;
}

type Op = 'send' | 'pull' | 'ack' | 'cycle';
type Logs = Readonly<Record<Op, LatencyLog>>;

/** One unit of work; `logs` is absent during warm-up. Resolves to false when there was nothing to do. */
type Step = (worker: Worker, n: number, logs: Logs | undefined) => Promise<boolean>;

interface Phase {
  readonly completed: number;
  readonly seconds: number;
  readonly stoppedEarly: boolean;
}

async function cycleOnce(worker: Worker, n: number, logs: Logs | undefined): Promise<boolean> {
  const start = performance.now();
  await timed(logs?.send, () => worker.relay.send(worker.sender, worker.recipient, n));
  const lease = await timed(logs?.pull, () => worker.relay.pull(worker.recipient));
  if (!lease) throw new BenchFailure(`pull: inbox of ${worker.recipient.id} answered 204 right after a send`);
  await timed(logs?.ack, () => worker.relay.ack(worker.recipient, lease));
  logs?.cycle.record(performance.now() - start);
  return true;
}

async function sendOnce(worker: Worker, n: number, logs: Logs | undefined): Promise<boolean> {
  await timed(logs?.send, () => worker.relay.send(worker.sender, worker.recipient, n));
  return true;
}

async function drainOnce(worker: Worker, _n: number, logs: Logs | undefined): Promise<boolean> {
  const start = performance.now();
  const lease = await worker.relay.pull(worker.recipient);
  // The final empty pull is not a message, so it stays out of the figures.
  if (!lease) return false;
  logs?.pull.record(performance.now() - start);
  await timed(logs?.ack, () => worker.relay.ack(worker.recipient, lease));
  return true;
}

const MODE_STEPS: Readonly<
  Record<Exclude<Mode, 'push'>, { readonly ops: readonly Op[]; readonly step: Step }>
> = {
  cycle: { ops: ['send', 'pull', 'ack', 'cycle'], step: cycleOnce },
  send: { ops: ['send'], step: sendOnce },
  drain: { ops: ['pull', 'ack'], step: drainOnce },
};

async function timed<T>(log: LatencyLog | undefined, operation: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await operation();
  log?.record(performance.now() - start);
  return result;
}

/** Workers share one counter, so exactly `total` steps run whatever their relative speed. */
async function runPhase(
  workers: readonly Worker[],
  first: number,
  total: number,
  deadline: number,
  step: (worker: Worker, n: number) => Promise<boolean>,
): Promise<Phase> {
  let claimed = 0;
  let completed = 0;
  let stoppedEarly = false;
  const loop = async (worker: Worker): Promise<void> => {
    while (claimed < total) {
      if (performance.now() >= deadline) {
        stoppedEarly = true;
        return;
      }
      const n = first + claimed++;
      if (!(await step(worker, n))) {
        // Hand the unused slot back so a worker whose inbox still has messages can take it.
        claimed--;
        return;
      }
      completed++;
    }
  };
  const start = performance.now();
  await Promise.all(workers.map(loop));
  return { completed, seconds: (performance.now() - start) / 1000, stoppedEarly };
}

async function measure(workers: readonly Worker[], options: Options, prefix: string) {
  if (options.mode === 'push') {
    const measurement = await measurePush(workers, options, prefix);
    return { measurement, total: measurement.completed };
  }
  const { ops, step } = MODE_STEPS[options.mode];
  const deadline = performance.now() + options.maxSeconds * 1000;
  const warmup = await runPhase(workers, 0, options.warmup, deadline, (worker, n) =>
    step(worker, n, undefined),
  );
  const logs: Logs = {
    send: new LatencyLog(),
    pull: new LatencyLog(),
    ack: new LatencyLog(),
    cycle: new LatencyLog(),
  };
  const measured = await runPhase(
    workers,
    options.warmup,
    options.count - options.warmup,
    deadline,
    (worker, n) => step(worker, n, logs),
  );
  const measurement: Measurement = {
    prefix,
    completed: measured.completed,
    seconds: measured.seconds,
    stoppedEarly: warmup.stoppedEarly || measured.stoppedEarly,
    ops: Object.fromEntries(ops.map((op) => [op, logs[op].summarize()])),
  };
  return { measurement, total: warmup.completed + measured.completed };
}

/** A fresh prefix registers new agents; a given one issues new keys for the agents an earlier run made. */
async function prepareWorkers(relay: RelayClient, options: Options, prefix: string): Promise<Worker[]> {
  const obtain = async (agentId: string) => {
    const issued =
      options.prefix === undefined
        ? await relay.registerAgent(options.adminKey, agentId, options.tier)
        : await relay.issueKey(options.adminKey, agentId, options.tier);
    return { id: agentId, credential: await credentialFor(options.auth, issued, options) };
  };
  return Promise.all(
    Array.from({ length: options.concurrency }, async (_, i) => {
      const [sender, recipient] = await Promise.all([obtain(`${prefix}-s${i}`), obtain(`${prefix}-r${i}`)]);
      return { relay, sender, recipient };
    }),
  );
}

function suggestDrain(options: Options, prefix: string, sent: number): string {
  return (
    `${sent} messages left in the inboxes; measure pulls with:\n` +
    `  npm run bench -- --mode drain --url ${options.url} --prefix ${prefix} ` +
    `--concurrency ${options.concurrency} --count ${sent}`
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (!wantsDriver(argv)) {
    const comparison = parseCompareOptions(argv);
    if (comparison) await compare(comparison);
    else console.log(COMPARE_USAGE);
    return;
  }
  const options = parseOptions(argv);
  if (!options) {
    console.log(USAGE);
    return;
  }
  const prefix = options.prefix ?? `bench-${randomBytes(3).toString('hex')}`;
  const relay = new RelayClient(options.url);
  const workers = await prepareWorkers(relay, options, prefix);
  const verb = options.prefix === undefined ? 'registered' : 'issued keys for';
  console.error(
    `${verb} ${workers.length * 2} agents as ${prefix}-*; running ${options.mode}, authenticating by ${options.auth}`,
  );

  const { measurement, total } = await measure(workers, options, prefix);
  if (options.mode === 'send') console.error(suggestDrain(options, prefix, total));
  console.log(formatReport(options, measurement));
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${wantsDriver(process.argv.slice(2)) ? USAGE : COMPARE_USAGE}`);
    process.exit(2);
  }
  console.error(error instanceof BenchFailure ? `bench aborted: ${error.message}` : error);
  // Exit at once: the other workers may still have requests in flight.
  process.exit(1);
});
