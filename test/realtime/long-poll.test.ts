import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/expect-error.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

let relay: TestRelay;
let n = 0;
const fresh = () => relay.registerAgent(`poll.agent-${++n}`);
// A wait that a busy machine cannot use up before the relay answers: a long poll that returns
// earlier was woken (or found a message at once), never timed out. A poll that times out still
// looks once more, so only the time it returned tells a wake from a timeout.
const LONG_WAIT_SEC = 20;

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

describe('long-poll PULL', () => {
  it('returns when a SEND arrives while it waits, before its wait runs out', async () => {
    const [from, to] = [await fresh(), await fresh()];
    const started = performance.now();
    const polling = relay.pull(to, `?wait=${LONG_WAIT_SEC}`);
    await new Promise((r) => setTimeout(r, 300));
    const sent = await relay.send(from, to.id);
    const r = await polling;
    expect(r).toMatchObject({ status: 200, body: { id: sent.body.message_id, status: 'leased' } });
    expect(performance.now() - started, 'woken by the SEND, not by the end of the wait').toBeLessThan(
      LONG_WAIT_SEC * 1000,
    );
  });

  it('answers 204 when the wait ends empty, and not before', async () => {
    const agent = await fresh();
    const started = performance.now();
    const r = await relay.pull(agent, '?wait=1');
    expect(r.status).toBe(204);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('returns at once when a message is already waiting', async () => {
    const [from, to] = [await fresh(), await fresh()];
    await relay.send(from, to.id);
    const started = performance.now();
    expect((await relay.pull(to, `?wait=${LONG_WAIT_SEC}`)).status).toBe(200);
    expect(performance.now() - started, 'answered without waiting').toBeLessThan(LONG_WAIT_SEC * 1000);
  });

  it('hands one message to exactly one of several waiting pollers', async () => {
    const [from, to] = [await fresh(), await fresh()];
    const polls = Array.from({ length: 4 }, () => relay.pull(to, '?wait=5'));
    await new Promise((r) => setTimeout(r, 200));
    await relay.send(from, to.id);
    const statuses = (await Promise.all(polls)).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 204, 204, 204]);
  });

  it('wakes for a message another consumer nacked', async () => {
    const [from, to] = [await fresh(), await fresh()];
    await relay.send(from, to.id);
    const first = await relay.pull(to);
    const started = performance.now();
    const polling = relay.pull(to, `?wait=${LONG_WAIT_SEC}`);
    await new Promise((r) => setTimeout(r, 200));
    await relay.nack(to, first.body.id, `?lease_id=${first.body.lease_id}`);
    const r = await polling;
    expect(r).toMatchObject({ status: 200, body: { id: first.body.id, attempts: 1 } });
    expect(performance.now() - started, 'woken by the NACK').toBeLessThan(LONG_WAIT_SEC * 1000);
  });

  it('refuses a wait over 20 seconds or below zero', async () => {
    const agent = await fresh();
    expectError(await relay.pull(agent, '?wait=21'), 422, 'validation_failed');
    expectError(await relay.pull(agent, '?wait=-1'), 422, 'validation_failed');
  });
});
