import { parseArgs } from 'node:util';
import { LEG_NAMES, type LegName } from './legs/leg.js';
import { UsageError } from './options.js';

export interface CompareOptions {
  readonly messages: number;
  readonly concurrency: number;
  readonly rounds: number;
  readonly warmup: number;
  /** Total sends per second (open loop); undefined for closed loop. */
  readonly rate: number | undefined;
  readonly legs: readonly LegName[];
  readonly history: number;
  readonly db: 'postgres' | 'pglite';
  readonly maxSeconds: number;
}

export const COMPARE_USAGE = `Usage: npm run bench -- [options]

Starts a durable PostgreSQL server (fsync and synchronous_commit on) and a relay process on it,
then runs the same queue workload through each leg in turn, and again for every round:

  raw          node-postgres, named prepared statements, a minimal queue table
  raw-http     raw's statements behind a bare node:http server: what HTTP alone costs
  pgboss       pg-boss 10: send, fetch (one job), complete
  relay        the relay over HTTP: SEND, PULL, ACK
  raw-batch    raw, 100 messages per statement
  relay-batch  the relay's batch endpoints, 100 per call (skipped while the relay lacks them)

  --messages <n>      messages per leg and round                            (default 3000)
  --concurrency <n>   producers, and as many consumers, all at once          (default 8)
  --rounds <n>        times every leg runs, interleaved                      (default 2)
  --warmup <n>        unmeasured messages before each leg's measured run    (default 200)
  --rate <n>          open loop: producers send <n> msg/s in total           (default: closed loop)
  --legs <list>       comma-separated legs, in order   (default all; with --db pglite: relay,relay-batch)
  --history <n>       first fill the relay's table with <n> acked messages   (default 0)
  --db <db>           postgres, or pglite: the relay alone on its embedded database
  --max-seconds <n>   give up on a leg after this long                       (default 300)
  -h, --help          show this help

The driver of earlier releases (one relay you run, --url, --mode cycle|send|drain|push, --auth) runs
whenever one of its own options is given; \`npm run bench -- --url <url> --help\` shows them.`;

/** Options only the single-relay driver (bench/run.ts) knows: any of them selects it. */
const DRIVER_FLAGS = [
  '--url',
  '--admin-key',
  '--count',
  '--mode',
  '--prefix',
  '--tier',
  '--auth',
  '--jwt-secret',
];

export function wantsDriver(argv: readonly string[]): boolean {
  return argv.some((arg) => DRIVER_FLAGS.includes(arg.split('=')[0] as string));
}

const positive = (flag: string, raw: string, min = 1): number => {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
};

function readLegs(raw: string | undefined, db: CompareOptions['db']): LegName[] {
  const fallback = db === 'pglite' ? 'relay,relay-batch' : LEG_NAMES.join(',');
  const legs = (raw ?? fallback).split(',').map((leg) => leg.trim());
  for (const leg of legs) {
    if (!(LEG_NAMES as readonly string[]).includes(leg)) {
      throw new UsageError(`--legs: unknown leg "${leg}" (one of ${LEG_NAMES.join(', ')})`);
    }
    if (db === 'pglite' && !leg.startsWith('relay')) {
      throw new UsageError(`--db pglite runs the relay legs only, not "${leg}"`);
    }
  }
  return legs as LegName[];
}

/** Returns undefined when help was asked for. */
export function parseCompareOptions(argv: readonly string[]): CompareOptions | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        messages: { type: 'string', default: '3000' },
        concurrency: { type: 'string', default: '8' },
        rounds: { type: 'string', default: '2' },
        warmup: { type: 'string', default: '200' },
        rate: { type: 'string' },
        legs: { type: 'string' },
        history: { type: 'string', default: '0' },
        db: { type: 'string', default: 'postgres' },
        'max-seconds': { type: 'string', default: '300' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return undefined;
  const text = (name: string) => values[name] as string;
  const db = text('db');
  if (db !== 'postgres' && db !== 'pglite')
    throw new UsageError(`--db must be postgres or pglite, got "${db}"`);
  const history = positive('--history', text('history'), 0);
  if (db === 'pglite' && history > 0) {
    throw new UsageError('--history needs --db postgres: PGlite lives inside the relay and cannot be seeded');
  }
  return {
    messages: positive('--messages', text('messages')),
    concurrency: positive('--concurrency', text('concurrency')),
    rounds: positive('--rounds', text('rounds')),
    warmup: positive('--warmup', text('warmup'), 0),
    rate: values.rate === undefined ? undefined : positive('--rate', text('rate')),
    legs: readLegs(values.legs as string | undefined, db),
    history,
    db,
    maxSeconds: positive('--max-seconds', text('max-seconds')),
  };
}
