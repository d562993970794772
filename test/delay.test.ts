import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';
import { connect } from './support/ws-client.js';

// A real server: WebSocket pushes, and on PostgreSQL the LISTEN/NOTIFY hub.
let relay: TestRelay;
let sender: Agent;
let n = 0;

beforeAll(async () => {
  relay = await startTestRelay({}, { listen: true });
  sender = await relay.registerAgent('delay-sender');
});
afterAll(() => relay.close());

const freshInbox = () => relay.registerAgent(`delay-inbox-${++n}`);

/** The bound: a delayed message arrives within this long after its `available_at`. */
const ON_TIME_MS = 1000;

const availableAt = async (id: string) =>
  Date.parse((await relay.call('GET', `/v1/messages/${id}/status`)).body.available_at);

const sendDelayed = (to: Agent, delaySec: number, overrides: Record<string, unknown> = {}) =>
  relay.call('POST', `/v1/agents/${to.id}/messages?delay=${delaySec}`, {
    token: sender.apiKey,
    body: envelope(sender.id, to.id, overrides),
  });

/** Expects `arrivedAt` (epoch ms) not before `at` and within the bound after it. */
function expectOnTime(arrivedAt: number, at: number) {
  expect(arrivedAt).toBeGreaterThanOrEqual(at);
  expect(arrivedAt - at).toBeLessThan(ON_TIME_MS);
}

describe('delayed SEND', () => {
  it('stores at once, is invisible to PULL and STATS until available_at, then a long-poll gets it on time', async () => {
    const inbox = await freshInbox();
    const sentAt = Date.now();
    const r = await sendDelayed(inbox, 2);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ message_id: r.body.message_id, status: 'delivered' });
    const id = r.body.message_id;
    const at = await availableAt(id);
    expect(at).toBeGreaterThanOrEqual(sentAt + 2000 - 50);
    const status = (await relay.call('GET', `/v1/messages/${id}/status`)).body;
    expect(status.status).toBe('delivered');
    expect((await relay.pull(inbox)).status).toBe(204);
    expect(await relay.stats(inbox)).toMatchObject({ ready: 0, leased: 0 });
    // A long-poll that began before the message was due: woken by the hub's timer, not by a SEND.
    const pulled = await relay.pull(inbox, '?wait=10');
    const arrivedAt = Date.now();
    expect(pulled.status).toBe(200);
    expect(pulled.body.id).toBe(id);
    expectOnTime(arrivedAt, at);
    expect((await relay.stats(inbox)).leased).toBe(1);
  });

  it('is pushed over a WebSocket opened meanwhile only once due, and on time', async () => {
    const inbox = await freshInbox();
    const { message_id: id } = (await sendDelayed(inbox, 2)).body;
    const at = await availableAt(id);
    const socket = await connect(relay.baseUrl, inbox.id, { token: inbox.apiKey });
    try {
      await socket.next('welcome');
      const pushed = await socket.next('message', 15_000);
      const arrivedAt = performance.timeOrigin + pushed.receivedAt;
      expect(pushed.message.id).toBe(id);
      expectOnTime(arrivedAt, at);
    } finally {
      await socket.close();
    }
  });

  it('lets ready messages sent after it pass it, and keeps it for later', async () => {
    const inbox = await freshInbox();
    const delayed = (await sendDelayed(inbox, 60)).body.message_id;
    const now = (await relay.send(sender, inbox.id)).body.message_id;
    const pulled = await relay.pull(inbox);
    expect(pulled.body.id).toBe(now);
    expect((await relay.pull(inbox)).status).toBe(204);
    expect((await relay.call('GET', `/v1/messages/${delayed}/status`)).body.status).toBe('delivered');
  });

  it('takes delay=0 as no delay', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await sendDelayed(inbox, 0)).body;
    expect((await relay.pull(inbox)).body.id).toBe(message_id);
  });

  it('refuses a delay beyond the message’s ttl_sec, negative, fractional or not a number with 422', async () => {
    const inbox = await freshInbox();
    expectError(await sendDelayed(inbox, 61, { ttl_sec: 60 }), 422, 'validation_failed');
    for (const delay of ['-1', '1.5', 'soon', '604801']) {
      const r = await relay.call('POST', `/v1/agents/${inbox.id}/messages?delay=${delay}`, {
        token: sender.apiKey,
        body: envelope(sender.id, inbox.id),
      });
      expectError(r, 422, 'validation_failed');
    }
    expect((await relay.stats(inbox)).ready).toBe(0);
    expect((await sendDelayed(inbox, 60, { ttl_sec: 60 })).status).toBe(201);
  });

  it('delays every message of a SEND batch', async () => {
    const inbox = await freshInbox();
    const r = await relay.call('POST', '/v1/messages/batch?delay=60', {
      token: sender.apiKey,
      body: { messages: [envelope(sender.id, inbox.id), envelope(sender.id, inbox.id, { ttl_sec: 30 })] },
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({ status: 'delivered' });
    expect(r.body.results[1].error.code).toBe('validation_failed');
    expect((await relay.pull(inbox)).status).toBe(204);
    const at = await availableAt(r.body.results[0].message_id);
    expect(at).toBeGreaterThan(Date.now() + 50_000);
  });
});

describe('NACK with back-off', () => {
  it('gives the message back ready only delay seconds later: invisible to PULL until then, on time after', async () => {
    const inbox = await freshInbox();
    const { message_id: id } = (await relay.send(sender, inbox.id)).body;
    const first = await relay.pull(inbox);
    const nacked = await relay.nack(inbox, id, `?lease_id=${first.body.lease_id}&delay=2`);
    expect(nacked.status).toBe(200);
    expect(nacked.body).toEqual({ status: 'delivered', attempts: 1 });
    const at = await availableAt(id);
    expect((await relay.pull(inbox)).status).toBe(204);
    expect((await relay.stats(inbox)).ready).toBe(0);
    const again = await relay.pull(inbox, '?wait=10');
    const arrivedAt = Date.now();
    expect(again.body).toMatchObject({ id, attempts: 1 });
    expectOnTime(arrivedAt, at);
  });

  it('pushes a backed-off message to the socket that gave it back, once due', async () => {
    const inbox = await freshInbox();
    const socket = await connect(relay.baseUrl, inbox.id, { token: inbox.apiKey });
    try {
      await socket.next('welcome');
      const { message_id: id } = (await relay.send(sender, inbox.id)).body;
      const first = await socket.next('message');
      expect(first.message.id).toBe(id);
      // Over HTTP, since the frame has no delay: the socket holds the lease, the agent gives it back.
      const nacked = await relay.nack(inbox, id, `?lease_id=${first.message.lease_id}&delay=2`);
      expect(nacked.body.status).toBe('delivered');
      const at = await availableAt(id);
      const again = await socket.next('message', 15_000);
      expect(again.message.id).toBe(id);
      expectOnTime(performance.timeOrigin + again.receivedAt, at);
    } finally {
      await socket.close();
    }
  });

  it('refuses delay together with extend, and out of range, with 422', async () => {
    const inbox = await freshInbox();
    const { message_id: id } = (await relay.send(sender, inbox.id)).body;
    const { lease_id } = (await relay.pull(inbox)).body;
    expectError(
      await relay.nack(inbox, id, `?lease_id=${lease_id}&delay=5&extend=5`),
      422,
      'validation_failed',
    );
    expectError(await relay.nack(inbox, id, `?lease_id=${lease_id}&delay=-1`), 422, 'validation_failed');
    expect((await relay.call('GET', `/v1/messages/${id}/status`)).body.status).toBe('leased');
  });
});
