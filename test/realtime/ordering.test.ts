import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, startTestRelay, type TestRelay } from '../support/relay.js';
import { connect } from '../support/ws-client.js';

// Ordering per sender–recipient pair, and exactly what holds after a NACK or an expired lease
// (docs/realtime.md, "Ordering").
let relay: TestRelay;
let strict: TestRelay;
let n = 0;
const fresh = (r: TestRelay) => r.registerAgent(`order.agent-${++n}`);
const seqOf = (m: { body: { seq: number } }) => m.body.seq;

beforeAll(async () => {
  [relay, strict] = await Promise.all([
    startTestRelay({}, { listen: true }),
    startTestRelay({ WS_MAX_IN_FLIGHT: '1' }, { listen: true }),
  ]);
});
afterAll(() => Promise.all([relay.close(), strict.close()]));

const sendNumbered = async (r: TestRelay, from: Agent, to: Agent, count: number, start = 0) => {
  for (let i = start; i < start + count; i++) {
    expect((await r.send(from, to.id, { body: { seq: i } })).status).toBe(201);
  }
};

describe('ordering', () => {
  it('delivers 1,000 messages from one sender through one socket in send order', {
    timeout: 120_000,
  }, async () => {
    const [from, to] = [await fresh(relay), await fresh(relay)];
    const socket = await connect(relay.baseUrl, to.id, { token: to.apiKey });
    await socket.next('welcome');
    const received: number[] = [];
    const receiving = (async () => {
      while (received.length < 1000) {
        const f = await socket.next('message', 30_000);
        received.push(seqOf(f.message));
        socket.send({ type: 'ack', message_id: f.message.id });
      }
    })();
    await sendNumbered(relay, from, to, 1000);
    await receiving;
    expect(received).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    await expect.poll(() => relay.stats(to)).toMatchObject({ ready: 0, leased: 0 });
    await socket.close();
  });

  it('delivers over PULL in send order, and keeps each sender’s order when two interleave', async () => {
    const [a, b, to] = [await fresh(relay), await fresh(relay), await fresh(relay)];
    for (let i = 0; i < 20; i++) {
      await relay.send(a, to.id, { body: { seq: i } });
      await relay.send(b, to.id, { body: { seq: i } });
    }
    const bySender: Record<string, number[]> = {};
    for (;;) {
      const r = await relay.pull(to);
      if (r.status === 204) break;
      bySender[r.body.from] = [...(bySender[r.body.from] ?? []), seqOf(r.body)];
      await relay.ack(to, r.body.id, r.body.lease_id);
    }
    const inOrder = Array.from({ length: 20 }, (_, i) => i);
    expect(bySender).toEqual({ [`agent://${a.id}`]: inOrder, [`agent://${b.id}`]: inOrder });
  });

  it('hands a NACKed message out again before any later one not yet delivered', async () => {
    const [from, to] = [await fresh(relay), await fresh(relay)];
    await sendNumbered(relay, from, to, 3);
    const first = await relay.pull(to);
    expect(seqOf(first.body)).toBe(0);
    await relay.nack(to, first.body.id, `?lease_id=${first.body.lease_id}`);
    const again = await relay.pull(to);
    expect(again.body).toMatchObject({ id: first.body.id, attempts: 1 });
    expect(seqOf((await relay.pull(to)).body)).toBe(1);
  });

  it('with one push in flight, a socket sees a NACKed message again before the next one', async () => {
    const [from, to] = [await fresh(strict), await fresh(strict)];
    await sendNumbered(strict, from, to, 3);
    const socket = await connect(strict.baseUrl, to.id, { token: to.apiKey });
    const seen: [number, number][] = [];
    let nacked = false;
    while (seen.length < 4) {
      const f = await socket.next('message');
      seen.push([seqOf(f.message), f.message.attempts]);
      if (seqOf(f.message) === 1 && !nacked) {
        nacked = true;
        socket.send({ type: 'nack', message_id: f.message.id });
      } else {
        socket.send({ type: 'ack', message_id: f.message.id });
      }
    }
    expect(seen).toEqual([
      [0, 0],
      [1, 0],
      [1, 1],
      [2, 0],
    ]);
    await socket.close();
  });

  it('with several pushes in flight, a NACKed message comes after those already pushed', async () => {
    const [from, to] = [await fresh(relay), await fresh(relay)];
    await sendNumbered(relay, from, to, 3);
    const socket = await connect(relay.baseUrl, to.id, { token: to.apiKey });
    const pushed = [await socket.next('message'), await socket.next('message'), await socket.next('message')];
    expect(pushed.map((f) => seqOf(f.message))).toEqual([0, 1, 2]);
    socket.send({ type: 'nack', message_id: pushed[0]?.message.id });
    const again = await socket.next('message');
    expect(again.message).toMatchObject({ id: pushed[0]?.message.id, attempts: 1 });
    await socket.close();
  });

  it('delivers a message whose lease expired after a later one that was acked meanwhile', async () => {
    const [from, to] = [await fresh(relay), await fresh(relay)];
    await sendNumbered(relay, from, to, 2);
    const first = await relay.pull(to, '?visibility_timeout=1');
    const second = await relay.pull(to);
    expect([seqOf(first.body), seqOf(second.body)]).toEqual([0, 1]);
    await relay.ack(to, second.body.id, second.body.lease_id);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await relay.pull(to);
    expect(again.body).toMatchObject({ id: first.body.id, attempts: 1 });
  });
});
