import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../src/db/database.js';
import { sweepOnce } from '../src/inbox/sweeper.js';
import { type Agent, sleep, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let sender: Agent;
let n = 0;

beforeAll(async () => {
  relay = await startTestRelay();
  sender = await relay.registerAgent('sender');
});
afterAll(() => relay.close());

/** Each test gets an inbox of its own, so counts and order never depend on other tests. */
const freshInbox = () => relay.registerAgent(`inbox-${++n}`);

const expectError = (r: { status: number; body: any }, status: number, code: string) =>
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });

const stats = async (agent: Agent) =>
  (await relay.call('GET', `/v1/agents/${agent.id}/inbox/stats`, { token: agent.apiKey })).body;

const nack = (agent: Agent, id: string, query = '') =>
  relay.call('POST', `/v1/agents/${agent.id}/messages/${id}/nack${query}`, { token: agent.apiKey });

describe('PULL', () => {
  it('answers 204 with no body for an empty inbox', async () => {
    const inbox = await freshInbox();
    const r = await relay.pull(inbox);
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
  });

  it('leases for visibility_timeout seconds and returns the lease', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const before = Date.now();
    const r = await relay.pull(inbox, '?visibility_timeout=120');
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('leased');
    expect(r.body.attempts).toBe(0);
    expect(r.body.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    const leaseMs = Date.parse(r.body.lease_until) - before;
    expect(leaseMs).toBeGreaterThan(115_000);
    expect(leaseMs).toBeLessThan(125_000);
    expect(await stats(inbox)).toMatchObject({ ready: 0, leased: 1, dead: 0 });
  });

  it.each(['0', '3601', 'abc', '1.5', '-1'])('refuses visibility_timeout=%s with 422', async (v) => {
    const inbox = await freshInbox();
    expectError(await relay.pull(inbox, `?visibility_timeout=${v}`), 422, 'validation_failed');
  });

  it('hands a message to exactly one of ten concurrent pullers, and each message is acked once', async () => {
    const inbox = await freshInbox();
    const sent = new Set<string>();
    for (let i = 0; i < 30; i++)
      sent.add((await relay.send(sender, inbox.id, { body: { i } })).body.message_id);
    const got: string[] = [];
    let acks = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (;;) {
          const r = await relay.pull(inbox);
          if (r.status === 204) return;
          got.push(r.body.id);
          const a = await relay.ack(inbox, r.body.id, r.body.lease_id);
          expect(a.status).toBe(200);
          acks++;
        }
      }),
    );
    expect(got.length).toBe(30);
    expect(new Set(got)).toEqual(sent);
    expect(acks).toBe(30);
    const [row] = await rows<{ acked: string }>(
      relay.db,
      sql`select count(*) as acked from message where to_agent_id = ${inbox.id} and status = 'acked'`,
    );
    expect(Number(row?.acked)).toBe(30);
  });

  it('delivers 50 sequential sends from one sender in send order', async () => {
    const inbox = await freshInbox();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++)
      ids.push((await relay.send(sender, inbox.id, { body: { i } })).body.message_id);
    const order: string[] = [];
    for (;;) {
      const r = await relay.pull(inbox);
      if (r.status === 204) break;
      order.push(r.body.id);
      await relay.ack(inbox, r.body.id, r.body.lease_id);
    }
    expect(order).toEqual(ids);
  });

  it('does not deliver a message whose TTL has run out', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id, { ttl_sec: 1 });
    await sleep(1100);
    expect((await relay.pull(inbox)).status).toBe(204);
  });

  it('lets only the inbox owner or the admin pull', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.call('POST', `/v1/agents/${inbox.id}/inbox/pull`, { token: sender.apiKey });
    expectError(r, 403, 'forbidden');
    expect((await relay.call('POST', `/v1/agents/${inbox.id}/inbox/pull`)).status).toBe(200);
  });
});

describe('lease expiry', () => {
  it('brings an expired lease back with attempts + 1, and after max_attempts the message is dead', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    for (const attempts of [0, 1, 2]) {
      const r = await relay.pull(inbox, '?visibility_timeout=1');
      expect(r.status).toBe(200);
      expect(r.body.attempts).toBe(attempts);
      await sleep(1100);
    }
    // The third lease has run out on the last attempt: nothing more is delivered.
    expect((await relay.pull(inbox)).status).toBe(204);
    await sweepOnce(relay.deps, 'leases');
    const status = await relay.call('GET', `/v1/messages/${message_id}/status`);
    expect(status.body).toMatchObject({ status: 'dead', attempts: 3, last_error: 'Max attempts exceeded' });
    expect(await stats(inbox)).toMatchObject({ ready: 0, leased: 0, dead: 1 });
  });

  it('is swept back to ready by the reclaim sweep with attempts + 1', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    await relay.pull(inbox, '?visibility_timeout=1');
    await sleep(1100);
    await sweepOnce(relay.deps, 'leases');
    const status = await relay.call('GET', `/v1/messages/${message_id}/status`);
    expect(status.body).toMatchObject({ status: 'delivered', attempts: 1, last_error: 'Lease expired' });
  });

  it('refuses a stale holder’s ACK with 404 once the message is leased again', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const first = await relay.pull(inbox, '?visibility_timeout=1');
    await sleep(1100);
    const second = await relay.pull(inbox, '?visibility_timeout=30');
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.lease_id).not.toBe(first.body.lease_id);
    expectError(await relay.ack(inbox, first.body.id, first.body.lease_id), 404, 'not_found');
    expect((await relay.ack(inbox, second.body.id, second.body.lease_id)).status).toBe(200);
  });

  it('answers ACK of an expired lease with 404', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox, '?visibility_timeout=1');
    await sleep(1100);
    expectError(await relay.ack(inbox, r.body.id), 404, 'not_found');
  });

  it('RECLAIM returns this inbox’s expired leases and counts them', async () => {
    const inbox = await freshInbox();
    const other = await freshInbox();
    await relay.send(sender, inbox.id);
    await relay.send(sender, inbox.id);
    await relay.send(sender, other.id);
    await relay.pull(inbox, '?visibility_timeout=1');
    await relay.pull(inbox, '?visibility_timeout=1');
    await relay.pull(other, '?visibility_timeout=1');
    await sleep(1100);
    const r = await relay.call('POST', `/v1/agents/${inbox.id}/inbox/reclaim`, { token: inbox.apiKey });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ reclaimed: 2 });
    expect(
      (await relay.call('POST', `/v1/agents/${inbox.id}/inbox/reclaim`, { token: inbox.apiKey })).body,
    ).toEqual({
      reclaimed: 0,
    });
    expectError(
      await relay.call('POST', `/v1/agents/${other.id}/inbox/reclaim`, { token: inbox.apiKey }),
      403,
      'forbidden',
    );
  });
});

describe('ACK', () => {
  it('acks a leased message once; a second ACK is 404', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    const a = await relay.ack(inbox, r.body.id, r.body.lease_id);
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ status: 'acked' });
    expectError(await relay.ack(inbox, r.body.id, r.body.lease_id), 404, 'not_found');
    const status = await relay.call('GET', `/v1/messages/${r.body.id}/status`);
    expect(status.body.status).toBe('acked');
    expect(Date.parse(status.body.acked_at)).toBeGreaterThan(0);
  });

  it('answers 404 for a message that was never leased, a wrong lease_id and an unknown id', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    expectError(await relay.ack(inbox, message_id), 404, 'not_found');
    const r = await relay.pull(inbox);
    expectError(await relay.ack(inbox, message_id, crypto.randomUUID()), 404, 'not_found');
    expectError(await relay.ack(inbox, crypto.randomUUID()), 404, 'not_found');
    expect((await relay.ack(inbox, message_id, r.body.lease_id)).status).toBe(200);
  });

  it('refuses a malformed lease_id or message id with 422', async () => {
    const inbox = await freshInbox();
    expectError(await relay.ack(inbox, crypto.randomUUID(), 'nope'), 422, 'validation_failed');
    expectError(await relay.ack(inbox, 'not-an-id'), 422, 'validation_failed');
  });

  it('does not let another agent ack a message in my inbox', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    const attempt = await relay.call('POST', `/v1/agents/${inbox.id}/messages/${r.body.id}/ack`, {
      token: sender.apiKey,
    });
    expectError(attempt, 403, 'forbidden');
    // Acting on its own inbox path does not reach a message leased to someone else.
    expectError(await relay.ack(sender, r.body.id), 404, 'not_found');
  });
});

describe('NACK', () => {
  it('without extend makes the message ready again with one more attempt', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    const n1 = await nack(inbox, r.body.id, `?lease_id=${r.body.lease_id}&reason=busy`);
    expect(n1.status).toBe(200);
    expect(n1.body).toEqual({ status: 'delivered', attempts: 1 });
    const again = await relay.pull(inbox);
    expect(again.body).toMatchObject({ id: r.body.id, attempts: 1 });
    const status = await relay.call('GET', `/v1/messages/${r.body.id}/status`);
    expect(status.body.last_error).toBe('busy');
  });

  it('without extend on the last attempt makes the message dead', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    let last: any;
    for (let i = 0; i < 3; i++) {
      const r = await relay.pull(inbox);
      last = await nack(inbox, r.body.id);
    }
    expect(last.body).toEqual({ status: 'dead', attempts: 3 });
    expect((await relay.pull(inbox)).status).toBe(204);
    expect(await stats(inbox)).toMatchObject({ dead: 1, ready: 0 });
  });

  it('with extend keeps the lease and moves lease_until by extend seconds', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox, '?visibility_timeout=10');
    const e = await nack(inbox, r.body.id, `?extend=60&lease_id=${r.body.lease_id}`);
    expect(e.status).toBe(200);
    expect(e.body.status).toBe('leased');
    expect(e.body.attempts).toBe(0);
    expect(Date.parse(e.body.lease_until) - Date.parse(r.body.lease_until)).toBe(60_000);
  });

  it('with extend revives a lease that ran out unswept for the holder that names it', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox, '?visibility_timeout=1');
    await sleep(1100);
    const before = Date.now();
    const e = await nack(inbox, r.body.id, `?extend=30&lease_id=${r.body.lease_id}`);
    expect(e.body.status).toBe('leased');
    expect(Date.parse(e.body.lease_until)).toBeGreaterThanOrEqual(before + 29_000);
    // Without its lease_id nobody may extend an expired lease.
    const other = await relay.send(sender, inbox.id);
    const r2 = await relay.pull(inbox, '?visibility_timeout=1');
    expect(r2.body.id).toBe(other.body.message_id);
    await sleep(1100);
    expectError(await nack(inbox, r2.body.id, '?extend=30'), 404, 'not_found');
  });

  it.each(['0', '43201', 'x'])('refuses extend=%s with 422', async (v) => {
    const inbox = await freshInbox();
    expectError(await nack(inbox, crypto.randomUUID(), `?extend=${v}`), 422, 'validation_failed');
  });

  it('answers 404 for a message not leased to the caller', async () => {
    const inbox = await freshInbox();
    expectError(await nack(inbox, crypto.randomUUID()), 404, 'not_found');
  });
});

describe('REPLY', () => {
  it('sends a task.result to the original sender with its correlation id and acks the original', async () => {
    const inbox = await freshInbox();
    const sent = await relay.send(sender, inbox.id, { correlation_id: 'c-77', subject: 'create_user' });
    const r = await relay.pull(inbox);
    const reply = await relay.call(
      'POST',
      `/v1/agents/${inbox.id}/messages/${r.body.id}/reply?lease_id=${r.body.lease_id}`,
      {
        token: inbox.apiKey,
        body: { result: { user_id: 7 } },
      },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await relay.call('GET', `/v1/messages/${sent.body.message_id}/status`)).body.status).toBe(
      'acked',
    );
    const answer = await relay.pull(sender);
    expect(answer.body).toMatchObject({
      id: reply.body.message_id,
      type: 'task.result',
      from: `agent://${inbox.id}`,
      to: `agent://${sender.id}`,
      correlation_id: 'c-77',
      subject: 'create_user',
      body: { user_id: 7 },
    });
    await relay.ack(sender, answer.body.id, answer.body.lease_id);
  });

  it('sends a task.error correlated by the original id when it had no correlation id', async () => {
    const inbox = await freshInbox();
    const sent = await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    const reply = await relay.call('POST', `/v1/agents/${inbox.id}/messages/${r.body.id}/reply`, {
      token: inbox.apiKey,
      body: { error: { code: 'bad_email', message: 'no such domain' } },
    });
    expect(reply.status).toBe(200);
    const answer = await relay.pull(sender);
    expect(answer.body).toMatchObject({
      type: 'task.error',
      correlation_id: sent.body.message_id,
      body: { code: 'bad_email', message: 'no such domain' },
    });
    await relay.ack(sender, answer.body.id, answer.body.lease_id);
  });

  it('returns the first reply for a retried REPLY with the same Idempotency-Key', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    const opts = {
      token: inbox.apiKey,
      body: { result: {} },
      headers: { 'idempotency-key': `reply-${r.body.id}` },
    };
    const path = `/v1/agents/${inbox.id}/messages/${r.body.id}/reply`;
    const first = await relay.call('POST', path, opts);
    const retry = await relay.call('POST', path, opts);
    expect(retry.status).toBe(200);
    expect(retry.body.message_id).toBe(first.body.message_id);
    const answer = await relay.pull(sender);
    await relay.ack(sender, answer.body.id, answer.body.lease_id);
    expect((await relay.pull(sender)).status).toBe(204);
  });

  it('answers 404 when the message is not leased to the caller, and sends nothing', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    const reply = await relay.call('POST', `/v1/agents/${inbox.id}/messages/${message_id}/reply`, {
      token: inbox.apiKey,
      body: { result: {} },
    });
    expectError(reply, 404, 'not_found');
    expect((await relay.pull(sender)).status).toBe(204);
  });

  it.each([
    ['both result and error', { result: {}, error: { code: 'x', message: 'y' } }],
    ['neither', {}],
    ['a non-object result', { result: 'done' }],
    ['an error without a message', { error: { code: 'x' } }],
    ['an unknown field', { result: {}, extra: 1 }],
  ])('refuses %s with 422 and leaves the lease in place', async (_, body) => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    const reply = await relay.call('POST', `/v1/agents/${inbox.id}/messages/${r.body.id}/reply`, {
      token: inbox.apiKey,
      body,
    });
    expectError(reply, 422, 'validation_failed');
    expect((await relay.ack(inbox, r.body.id, r.body.lease_id)).status).toBe(200);
  });
});

describe('STATUS', () => {
  it('shows a message to its sender, its recipient and the admin, and 404 to anyone else', async () => {
    const inbox = await freshInbox();
    const stranger = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    for (const token of [sender.apiKey, inbox.apiKey, undefined]) {
      const r = await relay.call('GET', `/v1/messages/${message_id}/status`, { token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        id: message_id,
        status: 'delivered',
        from: `agent://${sender.id}`,
        to: `agent://${inbox.id}`,
        attempts: 0,
        lease_until: null,
        acked_at: null,
        last_error: null,
      });
      expect(Date.parse(r.body.created_at)).toBeGreaterThan(0);
    }
    expectError(
      await relay.call('GET', `/v1/messages/${message_id}/status`, { token: stranger.apiKey }),
      404,
      'not_found',
    );
    expectError(await relay.call('GET', `/v1/messages/${crypto.randomUUID()}/status`), 404, 'not_found');
  });
});

describe('STATS', () => {
  it('counts ready, leased and dead messages and the age of the oldest unsettled one', async () => {
    const inbox = await freshInbox();
    expect(await stats(inbox)).toEqual({ ready: 0, leased: 0, dead: 0, oldest_age_sec: 0 });
    for (let i = 0; i < 3; i++) await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    for (let i = 0; i < 3; i++) await nack(inbox, (await relay.pull(inbox)).body.id);
    await sleep(1000);
    const s = await stats(inbox);
    expect(s).toMatchObject({ ready: 1, leased: 1, dead: 1 });
    expect(s.oldest_age_sec).toBeGreaterThanOrEqual(1);
    expect(r.status).toBe(200);
  });

  it('is forbidden for another agent', async () => {
    const inbox = await freshInbox();
    const r = await relay.call('GET', `/v1/agents/${inbox.id}/inbox/stats`, { token: sender.apiKey });
    expectError(r, 403, 'forbidden');
  });
});
