import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ADMPClient,
  AuthenticationError,
  ConflictError,
  NotFoundError,
  ValidationError,
} from '../src/index.js';
import { must, sharedRelay } from './support/live-relay.js';

const live = sharedRelay();
let sender: ADMPClient;
let worker: ADMPClient;

beforeAll(async () => {
  sender = await live.client('sender');
  worker = await live.client('worker');
});

const task = (subject = 'create_user', body: Record<string, unknown> = { email: 'a@example.com' }) => ({
  to: worker.agentId,
  type: 'task.request' as const,
  subject,
  body,
});

describe('ADMPClient against a live relay', () => {
  it('sends a message that the recipient pulls with its lease and acks', async () => {
    const id = await sender.send({ ...task(), headers: { trace: 't-1' }, ttlSec: 600 });
    const msg = await worker.pull({ visibilityTimeout: 60 });
    expect(msg).toMatchObject({
      id,
      type: 'task.request',
      from: `agent://${sender.agentId}`,
      to: `agent://${worker.agentId}`,
      subject: 'create_user',
      body: { email: 'a@example.com' },
      headers: { trace: 't-1' },
      ttl_sec: 600,
      status: 'leased',
      attempts: 0,
    });
    expect(msg?.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    await worker.ack(must(msg));
    expect((await sender.status(id)).status).toBe('acked');
    expect(await worker.pull()).toBeNull();
  });

  it('accepts the recipient as agent://id or as a bare id', async () => {
    const a = await sender.send({ ...task('one'), to: `agent://${worker.agentId}` });
    const b = await sender.send(task('two'));
    const first = await worker.pull();
    const second = await worker.pull();
    expect([first?.id, second?.id]).toEqual([a, b]);
    await worker.ack(must(first));
    await worker.ack(must(second).id);
  });

  it('NACK gives the message back with one more attempt; NACK with extend keeps the lease', async () => {
    const id = await sender.send(task('retry-me'));
    const first = await worker.pull();
    const extended = await worker.nack(must(first), { extend: 120 });
    expect(extended.status).toBe('leased');
    expect(Date.parse(must(extended.lease_until))).toBeGreaterThan(Date.parse(must(first).lease_until));
    const released = await worker.nack(must(first));
    expect(released).toMatchObject({ status: 'delivered', attempts: 1 });
    const again = await worker.pull();
    expect(again).toMatchObject({ id, attempts: 1 });
    // The first lease is gone: settling with it is refused.
    await expect(worker.ack(must(first))).rejects.toBeInstanceOf(NotFoundError);
    await worker.ack(must(again));
  });

  it('counts the inbox by state', async () => {
    const inbox = await live.client('stats');
    await sender.send({ ...task('s1'), to: inbox.agentId });
    await sender.send({ ...task('s2'), to: inbox.agentId });
    await inbox.pull();
    expect(await inbox.inboxStats()).toMatchObject({ ready: 1, leased: 1, dead: 0 });
  });

  it('stores a send once however often it is sent with the same idempotency key', async () => {
    const key = `order-${crypto.randomUUID()}`;
    const a = await sender.send({ ...task('pay'), idempotencyKey: key });
    const b = await sender.send({ ...task('pay', { other: true }), idempotencyKey: key });
    expect(b).toBe(a);
  });

  it('retries a send whose answer was lost without storing it twice', async () => {
    const inbox = await live.client('lossy');
    let calls = 0;
    const lossy = await live.client('lossy-sender', {
      // The first SEND reaches the relay and is stored, then the answer is "lost" on the way back.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (++calls === 1) throw new TypeError('connection reset');
        return response;
      },
    });
    const id = await lossy.send({ ...task('once'), to: inbox.agentId });
    expect(calls).toBe(2);
    expect(await inbox.inboxStats()).toMatchObject({ ready: 1 });
    expect((await inbox.pull())?.id).toBe(id);
  });

  it('maps the relay’s errors to their classes with status, code and message', async () => {
    const missing = await sender.status(crypto.randomUUID()).catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });

    const tooLong = await sender.send(task('x'.repeat(256))).catch((e) => e);
    expect(tooLong).toBeInstanceOf(ValidationError);
    expect(tooLong).toMatchObject({ status: 422, code: 'validation_failed' });

    const id = crypto.randomUUID();
    await sender.send({ ...task('first'), id });
    const conflict = await sender.send({ ...task('second'), id }).catch((e) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect(conflict).toMatchObject({ status: 409, code: 'id_conflict' });

    const stranger = await live.client('stranger', { apiKey: 'admp_0000000000000000_notakey' });
    const denied = await stranger.inboxStats().catch((e) => e);
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect(denied.status).toBe(401);
    expect(typeof denied.message).toBe('string');
  });
});
