import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PANELS } from '../scripts/write-grafana-dashboard.js';
import { rows } from '../src/db/database.js';
import { sweepOnce } from '../src/inbox/sweeper.js';
import { createPinoLogger } from '../src/observe/pino-logger.js';
import { expectError } from './support/expect-error.js';
import { type Agent, sleep, startTestRelay, type TestRelay } from './support/relay.js';

const POLICY = `
policies:
  - { name: no-spam, priority: 1, subject_pattern: '^spam$', action: deny }
`;

const lines: Record<string, unknown>[] = [];
let relay: TestRelay;
let a: Agent;
let b: Agent;

beforeAll(async () => {
  const logger = createPinoLogger('debug', { write: (line) => void lines.push(JSON.parse(line)) });
  relay = await startTestRelay({}, { policy: POLICY, logger });
  [a, b] = await Promise.all([relay.registerAgent('obs.a'), relay.registerAgent('obs.b')]);
});
afterAll(() => relay.close());

const logged = (message: string) => lines.filter((line) => line.message === message);
const reply = (agent: Agent, id: string, leaseId: string) =>
  relay.call('POST', `/v1/agents/${agent.id}/messages/${id}/reply?lease_id=${leaseId}`, {
    token: agent.apiKey,
    body: { result: { ok: true } },
  });

describe('the audit trail (FR-38)', () => {
  it('holds every state transition of send → pull → nack → pull → ack → reply, in order', async () => {
    const first = (await relay.send(a, b.id, { correlation_id: 'c-audit' })).body.message_id;
    const lease1 = (await relay.pull(b)).body.lease_id;
    expect((await relay.nack(b, first, `?lease_id=${lease1}&reason=busy`)).status).toBe(200);
    const lease2 = (await relay.pull(b)).body.lease_id;
    expect((await relay.ack(b, first, lease2)).status).toBe(200);
    const second = (await relay.send(a, b.id)).body.message_id;
    const lease3 = (await relay.pull(b)).body.lease_id;
    const answer = (await reply(b, second, lease3)).body.message_id;
    await relay.deps.audit.flush();

    const trail = await rows<{
      event: string;
      agent_id: string;
      message_id: string;
      request_id: string;
      detail: any;
    }>(
      relay.db,
      sql`select event, agent_id, message_id, request_id, detail from audit_log
          where message_id in (${first}, ${second}, ${answer}) order by id`,
    );
    expect(trail.map((t) => [t.event, t.message_id, t.agent_id])).toEqual([
      ['message.sent', first, 'obs.a'],
      ['message.leased', first, 'obs.b'],
      ['message.nacked', first, 'obs.b'],
      ['message.leased', first, 'obs.b'],
      ['message.acked', first, 'obs.b'],
      ['message.sent', second, 'obs.a'],
      ['message.leased', second, 'obs.b'],
      ['message.acked', second, 'obs.b'],
      ['message.sent', answer, 'obs.b'],
    ]);
    expect(trail[0]?.detail).toEqual({
      from: 'obs.a',
      to: 'obs.b',
      type: 'task.request',
      via: 'send',
      policy: 'default',
      decision: 'allow',
    });
    expect(trail[2]?.detail).toEqual({ reason: 'busy', status: 'delivered', attempts: 1 });
    expect(trail[7]?.detail).toEqual({ via: 'reply' });
    expect(trail[8]?.detail).toMatchObject({ from: 'obs.b', to: 'obs.a', type: 'task.result', via: 'reply' });
    for (const t of trail) expect(t.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('records lease and TTL expiries found by the sweeps', async () => {
    const leased = (await relay.send(a, b.id)).body.message_id;
    await relay.pull(b, '?visibility_timeout=1');
    const short = (await relay.send(a, b.id, { ttl_sec: 1 })).body.message_id;
    await sleep(1300);
    await sweepOnce(relay.deps, 'leases');
    await sweepOnce(relay.deps, 'ttl');
    await relay.deps.audit.flush();
    const events = await rows<{ event: string; message_id: string; detail: any }>(
      relay.db,
      sql`select event, message_id, detail from audit_log where event in ('lease.expired', 'ttl.expired') order by id`,
    );
    expect(events).toContainEqual({
      event: 'lease.expired',
      message_id: leased,
      detail: { attempts: 1, status: 'delivered' },
    });
    expect(events).toContainEqual({ event: 'ttl.expired', message_id: short, detail: { status: 'dead' } });
    // Clear the inbox for the tests below.
    for (let r = await relay.pull(b); r.status === 200; r = await relay.pull(b))
      await relay.ack(b, r.body.id, r.body.lease_id);
  });
});

describe('log lines (FR-35, FR-36)', () => {
  it('writes each event as one JSON line with its fields, a timestamp, a level and the request id', async () => {
    lines.length = 0;
    const id = (await relay.send(a, b.id, { subject: 'hello', correlation_id: 'c-log' })).body.message_id;
    const lease = (await relay.pull(b)).body;
    await relay.nack(b, id, `?lease_id=${lease.lease_id}&reason=retry-later`);
    const again = (await relay.pull(b, '?visibility_timeout=1')).body;
    await sleep(1200);
    await sweepOnce(relay.deps, 'leases');
    const third = (await relay.pull(b)).body;
    await relay.ack(b, id, third.lease_id);
    const short = (await relay.send(a, b.id, { ttl_sec: 1 })).body.message_id;
    await sleep(1200);
    await sweepOnce(relay.deps, 'ttl');
    expectError(await relay.send(a, b.id, { subject: 'spam' }), 403, 'policy_denied');
    expectError(
      await relay.call('GET', `/v1/agents/${a.id}`, { token: 'admp_nokey_nosecret' }),
      401,
      'unauthorized',
    );

    for (const line of lines) {
      expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(['debug', 'info', 'warn', 'error']).toContain(line.level);
      expect(typeof line.message).toBe('string');
    }
    const one = (message: string) => {
      const found = logged(message);
      expect(found, message).toHaveLength(1);
      return found[0] as Record<string, unknown>;
    };
    expect(logged('message sent')).toHaveLength(2);
    expect(logged('message sent')[0]).toMatchObject({
      level: 'info',
      from: 'obs.a',
      to: 'obs.b',
      subject: 'hello',
      message_id: id,
      agent_id: 'obs.a',
      correlation_id: 'c-log',
      request_id: expect.any(String),
    });
    expect(logged('message pulled')).toEqual([
      expect.objectContaining({
        agent_id: 'obs.b',
        message_id: id,
        lease_until: lease.lease_until,
        request_id: expect.any(String),
      }),
      expect.objectContaining({ agent_id: 'obs.b', message_id: id, lease_until: again.lease_until }),
      expect.objectContaining({ agent_id: 'obs.b', message_id: id, lease_until: third.lease_until }),
    ]);
    expect(one('message nacked')).toMatchObject({
      agent_id: 'obs.b',
      message_id: id,
      reason: 'retry-later',
      request_id: expect.any(String),
    });
    expect(one('lease expired')).toMatchObject({ message_id: id, attempts: 2 });
    expect(one('message acked')).toMatchObject({
      agent_id: 'obs.b',
      message_id: id,
      request_id: expect.any(String),
    });
    expect(one('TTL expired')).toMatchObject({ message_id: short });
    expect(one('policy denial')).toMatchObject({
      level: 'warn',
      from: 'obs.a',
      to: 'obs.b',
      policy_name: 'no-spam',
      reason: 'denied',
    });
    expect(one('authentication failure')).toMatchObject({
      level: 'warn',
      reason: 'unknown_api_key',
      request_id: expect.any(String),
    });
  });
});

describe('/metrics (FR-37)', () => {
  it('holds every FR-37 name, and each counter moves by exactly the traffic sent', async () => {
    const c = await relay.registerAgent('obs.c');
    const before = await relay.metrics();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++)
      sent.push((await relay.send(a, c.id, { type: i < 3 ? 'task.request' : 'event' })).body.message_id);
    const leases = [];
    for (let i = 0; i < 4; i++) leases.push((await relay.pull(c)).body);
    for (const m of leases.slice(0, 2)) await relay.ack(c, m.id, m.lease_id);
    await relay.nack(c, leases[2].id, `?lease_id=${leases[2].lease_id}`);
    expectError(await relay.send(a, c.id, { subject: 'spam' }), 403, 'policy_denied');
    await relay.call('GET', `/v1/agents/${c.id}`, { token: 'admp_nokey_nosecret' });
    await relay.call('GET', `/v1/agents/${c.id}`, { token: null });
    const after = await relay.metrics();

    for (const name of [
      'admp_messages_sent_total',
      'admp_messages_received_total',
      'admp_messages_acked_total',
      'admp_messages_nacked_total',
      'admp_messages_dead_total',
      'admp_lease_duration_seconds_bucket',
      'admp_inbox_size',
      'admp_policy_denials_total',
      'admp_auth_failures_total',
      'admp_request_duration_seconds_bucket',
      'admp_delivery_duration_seconds_bucket',
      'admp_delivery_failures_total',
    ]) {
      expect(after.names(), name).toContain(name);
    }
    const moved = (name: string, where?: Record<string, string>) =>
      after.sum(name, where) - before.sum(name, where);
    expect(moved('admp_messages_sent_total', { from: 'obs.a', to: 'obs.c', type: 'task.request' })).toBe(3);
    expect(moved('admp_messages_sent_total', { from: 'obs.a', to: 'obs.c', type: 'event' })).toBe(2);
    expect(moved('admp_messages_received_total', { agent_id: 'obs.c' })).toBe(4);
    expect(moved('admp_messages_acked_total', { agent_id: 'obs.c' })).toBe(2);
    expect(moved('admp_messages_nacked_total', { agent_id: 'obs.c' })).toBe(1);
    expect(moved('admp_delivery_failures_total', { reason: 'nacked' })).toBe(1);
    expect(moved('admp_lease_duration_seconds_count', { agent_id: 'obs.c' })).toBe(2);
    expect(moved('admp_delivery_duration_seconds_count')).toBe(2);
    expect(moved('admp_policy_denials_total', { policy_name: 'no-spam', reason: 'denied' })).toBe(1);
    expect(moved('admp_auth_failures_total', { reason: 'unknown_api_key' })).toBe(1);
    expect(moved('admp_auth_failures_total', { reason: 'missing_credentials' })).toBe(1);
    expect(moved('admp_request_duration_seconds_count', { operation: 'send', status: '2xx' })).toBe(5);
    expect(moved('admp_request_duration_seconds_count', { operation: 'send', status: '4xx' })).toBe(1);
    expect(moved('admp_request_duration_seconds_count', { operation: 'pull', status: '2xx' })).toBe(4);
    expect(moved('admp_request_duration_seconds_count', { operation: 'ack', status: '2xx' })).toBe(2);
    // Five sent, two acked: one leased, two ready (the nacked one among them).
    expect(after.sum('admp_inbox_size', { agent_id: 'obs.c', status: 'delivered' })).toBe(2);
    expect(after.sum('admp_inbox_size', { agent_id: 'obs.c', status: 'leased' })).toBe(1);
    expect(
      after.sum('admp_inbox_oldest_age_seconds', { agent_id: 'obs.c', status: 'delivered' }),
    ).toBeGreaterThan(0);
  });

  it('counts a message that runs out of attempts as dead, with its reason', async () => {
    const d = await relay.registerAgent('obs.d');
    const before = await relay.metrics();
    const id = (await relay.send(a, d.id)).body.message_id;
    for (let i = 0; i < 3; i++) {
      const lease = (await relay.pull(d)).body;
      await relay.nack(d, id, `?lease_id=${lease.lease_id}`);
    }
    const after = await relay.metrics();
    expect(
      after.sum('admp_messages_dead_total', { agent_id: 'obs.d', reason: 'max_attempts' }) -
        before.sum('admp_messages_dead_total', { agent_id: 'obs.d', reason: 'max_attempts' }),
    ).toBe(1);
    expect(after.sum('admp_inbox_size', { agent_id: 'obs.d', status: 'dead' })).toBe(1);
  });
});

describe('/metrics with METRICS_TOKEN, and audit retention', () => {
  it('wants the bearer token when one is set', async () => {
    const guarded = await startTestRelay({ METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      expectError(await guarded.call('GET', '/metrics', { token: null }), 401, 'unauthorized');
      expectError(
        await guarded.call('GET', '/metrics', { token: 'wrong-token-0123456789' }),
        401,
        'unauthorized',
      );
      const r = await guarded.call<string>('GET', '/metrics', { token: 'metrics-token-0123456789' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/plain');
      expect(r.body).toContain('# TYPE admp_messages_sent_total counter');
    } finally {
      await guarded.close();
    }
  });

  it('deletes audit rows older than AUDIT_RETENTION_SEC in the TTL sweep, and keeps newer ones', async () => {
    const short = await startTestRelay({ AUDIT_RETENTION_SEC: '3600' });
    try {
      await short.db.execute(
        sql`insert into audit_log (at, event) values (now() - interval '2 hours', 'old'), (now(), 'new')`,
      );
      await sweepOnce(short.deps, 'ttl');
      const left = await rows<{ event: string }>(short.db, sql`select event from audit_log order by id`);
      expect(left.map((r) => r.event)).toEqual(['new']);
    } finally {
      await short.close();
    }
  });
});

describe('the Grafana dashboard', () => {
  it('queries only metrics the relay exposes', async () => {
    const exposed = (await relay.metrics()).names();
    const queried = new Set(
      PANELS.flatMap((p) => p.exprs.flatMap(([, expr]) => expr.match(/admp_[a-z_]+/g) ?? [])),
    );
    expect(queried.size).toBeGreaterThan(8);
    for (const name of queried) expect(exposed, name).toContain(name);
  });
});
