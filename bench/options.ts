import { parseArgs } from 'node:util';
import { AUTH_MODES, type AuthMode } from './credentials.js';

export const MODES = ['cycle', 'send', 'drain', 'push'] as const;
export type Mode = (typeof MODES)[number];

export interface Options {
  readonly url: string;
  readonly adminKey: string;
  readonly concurrency: number;
  readonly count: number;
  readonly warmup: number;
  readonly mode: Mode;
  readonly maxSeconds: number;
  /** Set to reuse the agents of an earlier run (e.g. drain what `--mode send` left behind). */
  readonly prefix: string | undefined;
  readonly tier: string;
  readonly auth: AuthMode;
  readonly jwtSecret: string | undefined;
  /** Sends per second in push mode, spread over the workers at a fixed pace. */
  readonly rate: number;
}

export const USAGE = `Usage: npm run bench -- --url <url> [options]   (or: npx tsx bench/run.ts --url <url> [options])

Drives a running ADMP relay over HTTP and reports latency percentiles and throughput.

  --url <url>           relay base URL                           (default http://127.0.0.1:3030)
  --admin-key <key>     admin key used to register bench agents  (default $API_KEY or dev-admin-key)
  --concurrency <n>     workers, each with its own sender and recipient agent      (default 8)
  --count <n>           operations in total, warm-up included                      (default 5000)
  --warmup <n>          leading operations left out of the figures                 (default 200)
  --mode <mode>         cycle: send, pull, ack one message at a time               (default cycle)
                        send:  send only, leaving the messages in the inboxes
                        drain: pull and ack until the inboxes are empty
                        push:  send at --rate msg/s to recipients listening on WebSockets,
                               and time each message from its SEND to its push
  --rate <n>            sends per second in push mode                              (default 200)
  --max-seconds <n>     stop early after this long and report what was measured    (default 300)
  --prefix <prefix>     reuse the agents of an earlier run instead of registering new ones;
                        pass the same --concurrency as that run
  --tier <tier>         API-key tier for the bench agents                          (default unlimited)
  --auth <mode>         how workers authenticate: apikey, hmac, jwt (HS256), or admin
                        (every request with the admin key)                         (default apikey)
  --jwt-secret <secret> the relay's JWT_SECRET, for --auth jwt                     (default $JWT_SECRET)
  -h, --help            show this help

The last line of output is a JSON summary for machines.`;

export class UsageError extends Error {}

const AGENT_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

/** Returns undefined when help was asked for. */
export function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseOptionsStrictly(argv);
  if (values.help) return undefined;

  const count = readPositiveInteger('--count', values.count);
  const warmup = readInteger('--warmup', values.warmup, 0);
  if (warmup >= count) throw new UsageError(`--warmup (${warmup}) must be less than --count (${count})`);

  return {
    url: readUrl(values.url),
    adminKey: values['admin-key'] ?? process.env.API_KEY ?? 'dev-admin-key',
    concurrency: readPositiveInteger('--concurrency', values.concurrency),
    count,
    warmup,
    mode: readMode(values.mode),
    maxSeconds: readPositiveInteger('--max-seconds', values['max-seconds']),
    prefix: readPrefix(values.prefix),
    tier: values.tier,
    auth: readAuth(values.auth),
    jwtSecret: values['jwt-secret'] ?? process.env.JWT_SECRET,
    rate: readPositiveInteger('--rate', values.rate),
  };
}

function parseOptionsStrictly(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:3030' },
        'admin-key': { type: 'string' },
        concurrency: { type: 'string', default: '8' },
        count: { type: 'string', default: '5000' },
        warmup: { type: 'string', default: '200' },
        mode: { type: 'string', default: 'cycle' },
        'max-seconds': { type: 'string', default: '300' },
        prefix: { type: 'string' },
        tier: { type: 'string', default: 'unlimited' },
        auth: { type: 'string', default: 'apikey' },
        'jwt-secret': { type: 'string' },
        rate: { type: 'string', default: '200' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function readInteger(flag: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function readPositiveInteger(flag: string, raw: string): number {
  return readInteger(flag, raw, 1);
}

function readUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an absolute URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must use http or https, got "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

function readMode(raw: string): Mode {
  const mode = MODES.find((candidate) => candidate === raw);
  if (!mode) throw new UsageError(`--mode must be one of ${MODES.join(', ')}, got "${raw}"`);
  return mode;
}

function readAuth(raw: string): AuthMode {
  const mode = AUTH_MODES.find((candidate) => candidate === raw);
  if (!mode) throw new UsageError(`--auth must be one of ${AUTH_MODES.join(', ')}, got "${raw}"`);
  return mode;
}

function readPrefix(raw: string | undefined): string | undefined {
  if (raw !== undefined && !AGENT_PREFIX.test(raw)) {
    throw new UsageError(`--prefix must be a valid agent id of at most 101 characters, got "${raw}"`);
  }
  return raw;
}
