/**
 * `npm run chaos`: the relay's own crash test. Two relay processes share one PostgreSQL server;
 * producers send every message through either relay, retrying with the same envelope and
 * `Idempotency-Key` until one answers 201; consumers pull through either relay, abandon some of
 * their leases and ACK the rest. Meanwhile a relay is killed with SIGKILL every few seconds (and
 * restarted on its port), and PostgreSQL itself is crashed once (`pg_ctl restart -m immediate`).
 * After the producers finish, the consumers drain every inbox; then it prints what was lost
 * (sent, never delivered), unexpected (delivered, never sent) and duplicated (processed twice,
 * which at-least-once allows) and exits non-zero on any loss or unexpected message.
 *
 *   npm run chaos -- [--messages 2000] [--duration 60] [--kill-every 3] [--abandon 0.05]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ADMIN_KEY, type BenchRelay, startRelay } from '../bench/relay-process.js';
import { startPostgres } from '../test/support/postgres-server.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '60' },
    'kill-every': { type: 'string', default: '3' },
    abandon: { type: 'string', default: '0.05' },
    inboxes: { type: 'string', default: '4' },
    producers: { type: 'string', default: '8' },
  },
});
const MESSAGES = Number(args.messages);
/** How long the producers spread their sends over: the kills run while they send. */
const DURATION_SEC = Number(args.duration);
const KILL_EVERY_SEC = Number(args['kill-every']);
const ABANDON = Number(args.abandon);
const INBOXES = Number(args.inboxes);
const PRODUCERS = Number(args.producers);
// An abandoned lease comes back after this, through the sweeper or the next PULL.
const VISIBILITY_SEC = 2;
// Past this after the last send, an undelivered message counts as lost.
const DRAIN_SEC = 90;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => console.log(`chaos ${((Date.now() - started) / 1000).toFixed(1)} s: ${line}`);
const started = Date.now();

const postgres = await startPostgres({ durable: true });
const relays: BenchRelay[] = [];
// However the run ends, it leaves no server behind.
process.on('exit', () => {
  for (const relay of relays) relay.process.kill('SIGKILL');
  postgres.stop();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
const relayEnv = {
  DATABASE_URL: postgres.url,
  // Abandoned leases and killed relays spend attempts; none of this test's messages may die of it.
  MAX_ATTEMPTS: '100',
  LEASE_RECLAIM_INTERVAL_SEC: '1',
  LOG_LEVEL: 'error',
  SHUTDOWN_TIMEOUT_SEC: '1',
};
const ports: number[] = [];
for (let i = 0; i < 2; i++) {
  const relay = await startRelay(relayEnv, { stdout: 'ignore' });
  relays.push(relay);
  ports.push(Number(new URL(relay.url).port));
}
log(`PostgreSQL and two relays up (${relays.map((r) => r.url).join(', ')})`);

let stopping = false;
const counts = { sendRetries: 0, pullErrors: 0, ackErrors: 0, abandoned: 0, relayKills: 0, failedStarts: 0 };

/** One call through whichever relay is up, retried through the other until it is answered. */
async function call(method: string, path: string, token: string, body?: unknown, headers = {}) {
  for (let attempt = 0; ; attempt++) {
    const relay = relays[(attempt + Math.floor(Math.random() * 2)) % 2] as BenchRelay;
    try {
      const response = await fetch(`${relay.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      // 5xx and 503 are what a relay says while its database restarts: try again.
      if (response.status < 500) return { status: response.status, json: text ? JSON.parse(text) : null };
    } catch {}
    if (stopping) throw new Error('stopped');
    await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt, 5)));
  }
}

async function register(agentId: string): Promise<string> {
  const r = await call('POST', '/v1/agents', ADMIN_KEY, { agent_id: agentId, tier: 'unlimited' });
  if (r.status !== 201) throw new Error(`register ${agentId}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.api_key;
}

const run = randomUUID().slice(0, 8);
const producer = { id: `chaos-${run}.producer`, token: await register(`chaos-${run}.producer`) };
const inboxes: { id: string; token: string }[] = [];
for (let i = 0; i < INBOXES; i++) {
  const id = `chaos-${run}.inbox-${i}`;
  inboxes.push({ id, token: await register(id) });
}

const sent = new Set<string>();
const processed = new Map<string, number>();
let unexpected = 0;

async function produce(worker: number) {
  for (let n = worker; n < MESSAGES; n += PRODUCERS) {
    // Spread over the duration, so the kills fall while messages are in flight.
    const due = started0 + (n / MESSAGES) * DURATION_SEC * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const to = inboxes[n % INBOXES] as { id: string };
    const id = randomUUID();
    const envelope = {
      id,
      type: 'task.request',
      from: `agent://${producer.id}`,
      to: `agent://${to.id}`,
      subject: 'chaos',
      body: { n },
      timestamp: new Date().toISOString(),
    };
    for (;;) {
      const r = await call('POST', `/v1/agents/${to.id}/messages`, producer.token, envelope, {
        'idempotency-key': id,
      });
      if (r.status === 201 && r.json.message_id === id) break;
      if (r.status !== 429) throw new Error(`send ${id}: ${r.status} ${JSON.stringify(r.json)}`);
      counts.sendRetries++;
    }
    sent.add(id);
  }
}

async function consume(inbox: { id: string; token: string }) {
  const base = `/v1/agents/${inbox.id}`;
  while (!stopping) {
    let r: Awaited<ReturnType<typeof call>>;
    try {
      r = await call(
        'POST',
        `${base}/inbox/pull-batch?max_messages=20&wait=1&visibility_timeout=${VISIBILITY_SEC}`,
        inbox.token,
      );
    } catch {
      return;
    }
    if (r.status !== 200) {
      counts.pullErrors++;
      continue;
    }
    const acks: { message_id: string; lease_id: string }[] = [];
    for (const message of r.json.messages as { id: string; lease_id: string; body: unknown }[]) {
      if (Math.random() < ABANDON) {
        counts.abandoned++;
        continue;
      }
      acks.push({ message_id: message.id, lease_id: message.lease_id });
    }
    if (acks.length === 0) continue;
    for (const a of acks) processed.set(a.message_id, (processed.get(a.message_id) ?? 0) + 1);
    try {
      const settled = await call('POST', `${base}/inbox/ack-batch`, inbox.token, { acks });
      if (settled.status !== 200) counts.ackErrors++;
    } catch {
      return;
    }
  }
}

/**
 * A relay refuses to start while PostgreSQL is down or recovering (its migrations fail), so like a
 * process supervisor, try again until it starts.
 */
async function restart(port: number): Promise<BenchRelay> {
  for (;;) {
    try {
      return await startRelay(relayEnv, { stdout: 'ignore', port });
    } catch {
      counts.failedStarts++;
      await sleep(1000);
    }
  }
}

/** SIGKILL one relay, then start it again on its port, every KILL_EVERY_SEC until `until`. */
async function killRelays(until: () => boolean) {
  let victim = 0;
  while (!until()) {
    await sleep(KILL_EVERY_SEC * 1000);
    if (until()) return;
    const old = relays[victim] as BenchRelay;
    old.process.kill('SIGKILL');
    counts.relayKills++;
    await new Promise((resolve) =>
      old.process.exitCode !== null ? resolve(null) : old.process.once('exit', resolve),
    );
    relays[victim] = await restart(ports[victim] as number);
    victim = 1 - victim;
  }
}

async function crashPostgres() {
  await sleep((DURATION_SEC * 1000) / 2);
  log('pg_ctl restart -m immediate');
  postgres.restart();
  log('PostgreSQL back');
}

const started0 = Date.now();
let producing = true;
const producers = Promise.all(Array.from({ length: PRODUCERS }, (_, i) => produce(i))).finally(() => {
  producing = false;
});
const consumers = Promise.all(inboxes.map(consume));
const chaos = Promise.all([killRelays(() => !producing), crashPostgres()]);
await producers;
await chaos;
log(`all ${sent.size} messages sent; draining`);

const drainUntil = Date.now() + DRAIN_SEC * 1000;
while (Date.now() < drainUntil && [...sent].some((id) => !processed.has(id))) await sleep(500);
stopping = true;
await consumers;
const lost = [...sent].filter((id) => !processed.has(id));
for (const id of processed.keys()) if (!sent.has(id)) unexpected++;
const duplicates = [...processed.values()].filter((times) => times > 1).length;
const figures = {
  messages: MESSAGES,
  sent: sent.size,
  delivered: processed.size,
  lost: lost.length,
  unexpected,
  duplicates,
  ...counts,
  seconds: Math.round((Date.now() - started) / 1000),
};
console.log(JSON.stringify(figures));
if (lost.length > 0) console.log(`lost, first ten: ${lost.slice(0, 10).join(' ')}`);
process.exit(lost.length > 0 || unexpected > 0 ? 1 : 0);
