import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
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
const freshInbox = () => relay.registerAgent(`settle-inbox-${++n}`);

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

  it('refuses a malformed lease_id with 422; a message id that is not one names no message: 404', async () => {
    const inbox = await freshInbox();
    expectError(await relay.ack(inbox, crypto.randomUUID(), 'nope'), 422, 'validation_failed');
    expectError(await relay.ack(inbox, 'not-an-id'), 404, 'not_found');
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
    const n1 = await relay.nack(inbox, r.body.id, `?lease_id=${r.body.lease_id}&reason=busy`);
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
      last = await relay.nack(inbox, r.body.id);
    }
    expect(last.body).toEqual({ status: 'dead', attempts: 3 });
    expect((await relay.pull(inbox)).status).toBe(204);
    expect(await relay.stats(inbox)).toMatchObject({ dead: 1, ready: 0 });
  });

  it('with extend keeps the lease and moves lease_until by extend seconds', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox, '?visibility_timeout=10');
    const e = await relay.nack(inbox, r.body.id, `?extend=60&lease_id=${r.body.lease_id}`);
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
    const e = await relay.nack(inbox, r.body.id, `?extend=30&lease_id=${r.body.lease_id}`);
    expect(e.body.status).toBe('leased');
    expect(Date.parse(e.body.lease_until)).toBeGreaterThanOrEqual(before + 29_000);
    // Without its lease_id nobody may extend an expired lease.
    const other = await relay.send(sender, inbox.id);
    const r2 = await relay.pull(inbox, '?visibility_timeout=1');
    expect(r2.body.id).toBe(other.body.message_id);
    await sleep(1100);
    expectError(await relay.nack(inbox, r2.body.id, '?extend=30'), 404, 'not_found');
  });

  it.each(['0', '43201', 'x'])('refuses extend=%s with 422', async (v) => {
    const inbox = await freshInbox();
    expectError(await relay.nack(inbox, crypto.randomUUID(), `?extend=${v}`), 422, 'validation_failed');
  });

  it('answers 404 for a message not leased to the caller', async () => {
    const inbox = await freshInbox();
    expectError(await relay.nack(inbox, crypto.randomUUID()), 404, 'not_found');
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

  it('refuses a REPLY whose Idempotency-Key already answered another message with 409, keeping the lease', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    await relay.send(sender, inbox.id);
    const [first, second] = [await relay.pull(inbox), await relay.pull(inbox)];
    const reply = (id: string, key: string) =>
      relay.call('POST', `/v1/agents/${inbox.id}/messages/${id}/reply`, {
        token: inbox.apiKey,
        body: { result: {} },
        headers: { 'idempotency-key': key },
      });
    const key = `reply-${crypto.randomUUID()}`;
    expect((await reply(first.body.id, key)).status).toBe(200);
    expectError(await reply(second.body.id, key), 409, 'id_conflict');
    expect(await relay.stats(inbox)).toMatchObject({ leased: 1 });
    expect((await reply(second.body.id, `${key}-2`)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const answer = await relay.pull(sender);
      await relay.ack(sender, answer.body.id, answer.body.lease_id);
    }
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
    expect(await relay.stats(inbox)).toEqual({ ready: 0, leased: 0, dead: 0, oldest_age_sec: 0 });
    for (let i = 0; i < 3; i++) await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox);
    for (let i = 0; i < 3; i++) await relay.nack(inbox, (await relay.pull(inbox)).body.id);
    await sleep(1000);
    const s = await relay.stats(inbox);
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
