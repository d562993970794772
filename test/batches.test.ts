import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

const POLICY = `
policies:
  - name: no-secrets
    priority: 10
    subject_pattern: "secret.*"
    action: deny
`;

let relay: TestRelay;
let sender: Agent;
let n = 0;

beforeAll(async () => {
  relay = await startTestRelay({}, { policy: POLICY });
  sender = await relay.registerAgent('batch-sender');
});
afterAll(() => relay.close());

const freshInbox = () => relay.registerAgent(`batch-inbox-${++n}`);

const sendBatch = (from: Agent, messages: unknown[]) =>
  relay.call('POST', '/v1/messages/batch', { token: from.apiKey, body: { messages } });
const pullBatch = (agent: Agent, query = '') =>
  relay.call('POST', `/v1/agents/${agent.id}/inbox/pull-batch${query}`, { token: agent.apiKey });
const ackBatch = (agent: Agent, acks: unknown[]) =>
  relay.call('POST', `/v1/agents/${agent.id}/inbox/ack-batch`, { token: agent.apiKey, body: { acks } });

describe('SEND batch', () => {
  it('stores envelopes for several recipients and answers each in request order', async () => {
    const [a, b] = [await freshInbox(), await freshInbox()];
    const envelopes = [envelope(sender.id, a.id), envelope(sender.id, b.id), envelope(sender.id, a.id)];
    const r = await sendBatch(sender, envelopes);
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual(envelopes.map((e) => ({ message_id: e.id, status: 'delivered' })));
    expect((await relay.stats(a)).ready).toBe(2);
    expect((await relay.stats(b)).ready).toBe(1);
  });

  it('fails each bad envelope alone with the code its single SEND would get', async () => {
    const inbox = await freshInbox();
    const other = await freshInbox();
    const good = envelope(sender.id, inbox.id);
    const unknownRecipient = envelope(sender.id, 'nobody-here');
    const invalid = { ...envelope(sender.id, inbox.id), type: 'nonsense' };
    const denied = envelope(sender.id, inbox.id, { subject: 'secret.plans' });
    const forged = envelope(other.id, inbox.id);
    const r = await sendBatch(sender, [good, unknownRecipient, invalid, denied, forged]);
    expect(r.status).toBe(200);
    const [ok, missing, bad, refused, mismatch] = r.body.results;
    expect(ok).toEqual({ message_id: good.id, status: 'delivered' });
    expect(missing).toMatchObject({ message_id: unknownRecipient.id, error: { code: 'not_found' } });
    expect(bad).toMatchObject({ message_id: invalid.id, error: { code: 'validation_failed' } });
    expect(refused).toMatchObject({ message_id: denied.id, error: { code: 'policy_denied' } });
    expect(mismatch).toMatchObject({ message_id: forged.id, error: { code: 'sender_mismatch' } });
    const stats = await relay.stats(inbox);
    expect(stats.ready).toBe(1);
  });

  it('returns the same ids when an identical batch is sent again, and stores nothing twice', async () => {
    const inbox = await freshInbox();
    const envelopes = [envelope(sender.id, inbox.id), envelope(sender.id, inbox.id)];
    const first = await sendBatch(sender, envelopes);
    const again = await sendBatch(sender, envelopes);
    expect(again.body.results).toEqual(first.body.results);
    expect((await relay.stats(inbox)).ready).toBe(2);
  });

  it('answers an id reused with different content with id_conflict for that envelope only', async () => {
    const inbox = await freshInbox();
    const original = envelope(sender.id, inbox.id);
    await sendBatch(sender, [original]);
    const changed = { ...original, subject: 'something else' };
    const fresh = envelope(sender.id, inbox.id);
    const r = await sendBatch(sender, [changed, fresh]);
    expect(r.body.results[0]).toMatchObject({ message_id: original.id, error: { code: 'id_conflict' } });
    expect(r.body.results[1]).toEqual({ message_id: fresh.id, status: 'delivered' });
  });

  it('keeps per-pair order inside a batch and across batches', async () => {
    const inbox = await freshInbox();
    const first = Array.from({ length: 20 }, (_, i) => envelope(sender.id, inbox.id, { body: { i } }));
    const second = Array.from({ length: 20 }, (_, i) =>
      envelope(sender.id, inbox.id, { body: { i: i + 20 } }),
    );
    await sendBatch(sender, first);
    await sendBatch(sender, second);
    const pulled = await pullBatch(inbox, '?max_messages=100');
    expect(pulled.body.messages.map((m: { body: { i: number } }) => m.body.i)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it('refuses an empty batch, more than 100 envelopes and a body that is not a batch with 422', async () => {
    expectError(await sendBatch(sender, []), 422, 'validation_failed');
    const inbox = await freshInbox();
    const many = Array.from({ length: 101 }, () => envelope(sender.id, inbox.id));
    expectError(await sendBatch(sender, many), 422, 'validation_failed');
    const notBatch = await relay.call('POST', '/v1/messages/batch', {
      token: sender.apiKey,
      body: envelope(sender.id, inbox.id),
    });
    expectError(notBatch, 422, 'validation_failed');
    expect((await relay.stats(inbox)).ready).toBe(0);
  });

  it('takes a batch of up to 5 MiB and refuses a larger one with 413', async () => {
    const inbox = await freshInbox();
    const body = { blob: 'x'.repeat(900_000) };
    const fits = Array.from({ length: 5 }, () => envelope(sender.id, inbox.id, { body }));
    const r = await sendBatch(sender, fits);
    expect(r.status).toBe(200);
    expect(r.body.results.every((x: { status?: string }) => x.status === 'delivered')).toBe(true);
    const tooBig = Array.from({ length: 6 }, () => envelope(sender.id, inbox.id, { body }));
    expectError(await sendBatch(sender, tooBig), 413, 'payload_too_large');
    expect((await relay.stats(inbox)).ready).toBe(5);
  });

  it('needs credentials', async () => {
    const r = await relay.call('POST', '/v1/messages/batch', { token: null, body: { messages: [] } });
    expectError(r, 401, 'unauthorized');
  });
});

describe('grouped SENDs', () => {
  it('answers each of many concurrent SENDs on its own: one bad recipient in a burst fails alone', async () => {
    const inbox = await freshInbox();
    const burst = Array.from({ length: 30 }, (_, i) =>
      i === 17 ? relay.send(sender, 'no-such-agent') : relay.send(sender, inbox.id, { body: { i } }),
    );
    const answers = await Promise.all(burst);
    answers.forEach((r, i) => {
      if (i === 17) expectError(r, 404, 'not_found');
      else expect(r.status).toBe(201);
    });
    expect((await relay.stats(inbox)).ready).toBe(29);
  });
});

describe('PULL batch', () => {
  it('leases up to max_messages, oldest first, and [] when the inbox is empty', async () => {
    const inbox = await freshInbox();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await relay.send(sender, inbox.id)).body.message_id);
    const first = await pullBatch(inbox, '?max_messages=3&visibility_timeout=60');
    expect(first.status).toBe(200);
    expect(first.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(0, 3));
    for (const m of first.body.messages) {
      expect(m).toMatchObject({ status: 'leased', attempts: 0 });
      expect(m.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const rest = await pullBatch(inbox, '?max_messages=10');
    expect(rest.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(3));
    expect((await pullBatch(inbox)).body).toEqual({ messages: [] });
    expect((await relay.stats(inbox)).leased).toBe(5);
  });

  it('waits for a message with wait, and answers [] when the wait ends', async () => {
    const inbox = await freshInbox();
    const waiting = pullBatch(inbox, '?wait=15');
    setTimeout(() => void relay.send(sender, inbox.id), 200);
    const r = await waiting;
    expect(r.body.messages).toHaveLength(1);
    expect((await pullBatch(inbox, '?wait=1')).body).toEqual({ messages: [] });
  });

  it('refuses max_messages outside 1..100 with 422, and another agent’s inbox with 403', async () => {
    const inbox = await freshInbox();
    expectError(await pullBatch(inbox, '?max_messages=0'), 422, 'validation_failed');
    expectError(await pullBatch(inbox, '?max_messages=101'), 422, 'validation_failed');
    const r = await relay.call('POST', `/v1/agents/${inbox.id}/inbox/pull-batch`, { token: sender.apiKey });
    expectError(r, 403, 'forbidden');
  });
});

describe('ACK batch', () => {
  it('acks each current lease and fails a stale lease alone with not_found', async () => {
    const inbox = await freshInbox();
    for (let i = 0; i < 3; i++) await relay.send(sender, inbox.id);
    const leased = (await pullBatch(inbox, '?max_messages=3')).body.messages;
    const acks = leased.map((m: { id: string; lease_id: string }) => ({
      message_id: m.id,
      lease_id: m.lease_id,
    }));
    acks[1] = { ...acks[1], lease_id: crypto.randomUUID() };
    const r = await ackBatch(inbox, acks);
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toEqual({ message_id: leased[0].id, status: 'acked' });
    expect(r.body.results[1]).toMatchObject({ message_id: leased[1].id, error: { code: 'not_found' } });
    expect(r.body.results[2]).toEqual({ message_id: leased[2].id, status: 'acked' });
    expect(await relay.stats(inbox)).toMatchObject({ ready: 0, leased: 1 });
  });

  it('refuses an empty list, more than 100 and a malformed lease_id with 422', async () => {
    const inbox = await freshInbox();
    expectError(await ackBatch(inbox, []), 422, 'validation_failed');
    const many = Array.from({ length: 101 }, () => ({
      message_id: crypto.randomUUID(),
      lease_id: crypto.randomUUID(),
    }));
    expectError(await ackBatch(inbox, many), 422, 'validation_failed');
    expectError(
      await ackBatch(inbox, [{ message_id: crypto.randomUUID(), lease_id: 'nope' }]),
      422,
      'validation_failed',
    );
  });

  it('cannot ack another agent’s messages', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const [m] = (await pullBatch(inbox)).body.messages;
    const r = await ackBatch(sender, [{ message_id: m.id, lease_id: m.lease_id }]);
    expect(r.body.results[0]).toMatchObject({ error: { code: 'not_found' } });
    expect((await relay.stats(inbox)).leased).toBe(1);
  });
});
