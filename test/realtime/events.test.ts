import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../support/event-stream.js';
import { expectError } from '../support/expect-error.js';
import { ADMIN_KEY, type Agent, startTestRelay, type TestRelay } from '../support/relay.js';

let relay: TestRelay;
let n = 0;
const fresh = () => relay.registerAgent(`events.agent-${++n}`);

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

const watch = async (agentId: string, token: string, fetch = relay.app.fetch) => {
  const abort = new AbortController();
  const response = await fetch(
    new Request(`http://relay.test/v1/agents/${agentId}/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    }),
  );
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return readEvents(response, abort);
};

const ready = (agent: Agent) => (e: any) => e.agent_id === agent.id && e.reason === 'ready';

describe('GET /v1/agents/{id}/events', () => {
  it('sends an event after a SEND, and leases nothing: a consumer still gets the message', async () => {
    const [from, to] = [await fresh(), await fresh()];
    const events = await watch(to.id, to.apiKey);
    const sent = await relay.send(from, to.id);
    expect(sent.status).toBe(201);
    expect(await events.next(ready(to))).toEqual({ agent_id: to.id, reason: 'ready' });
    expect(events.comments()[0]).toBe(`watching ${to.id}`);
    expect(await relay.stats(to)).toMatchObject({ ready: 1, leased: 0 });
    const pulled = await relay.pull(to);
    expect(pulled).toMatchObject({ status: 200, body: { id: sent.body.message_id, attempts: 0 } });
    events.close();
  });

  it('tells of a NACK, an ACK and a message gone dead, to the admin as to the agent', async () => {
    const [from, to] = [await fresh(), await fresh()];
    const events = await watch(to.id, ADMIN_KEY);
    const acked = (await relay.send(from, to.id)).body.message_id;
    await events.next(ready(to));
    const pulled = await relay.pull(to);
    expect(pulled.body.id).toBe(acked);
    expect((await relay.ack(to, acked, pulled.body.lease_id)).status).toBe(200);
    expect(await events.next((e) => e.reason === 'acked')).toEqual({ agent_id: to.id, reason: 'acked' });
    const id = (await relay.send(from, to.id)).body.message_id;
    await events.next(ready(to));
    // The default max_attempts is 3: two NACKs give it back, the third buries it.
    for (const expected of ['delivered', 'delivered', 'dead']) {
      expect((await relay.pull(to)).body.id).toBe(id);
      expect((await relay.nack(to, id)).body.status).toBe(expected);
      const reason = expected === 'dead' ? 'dead' : 'ready';
      expect(await events.next((e) => e.reason === reason)).toEqual({ agent_id: to.id, reason });
    }
    events.close();
  });

  it('refuses a request without credentials (401), for another agent’s inbox (403), and for no agent (404)', async () => {
    const [a, b] = [await fresh(), await fresh()];
    expectError(await relay.call('GET', `/v1/agents/${a.id}/events`, { token: null }), 401, 'unauthorized');
    expectError(await relay.call('GET', `/v1/agents/${a.id}/events`, { token: b.apiKey }), 403, 'forbidden');
    expectError(await relay.call('GET', '/v1/agents/events.nobody/events'), 404, 'not_found');
  });

  it('ends when the relay shuts down, as a long poll does', async () => {
    const stopped = await startTestRelay();
    try {
      const agent = await stopped.registerAgent('events.stopped');
      const events = await watch(agent.id, agent.apiKey, stopped.app.fetch);
      await expect.poll(() => events.comments().length).toBeGreaterThan(0);
      stopped.stop();
      await events.ended;
      expect(events.events()).toEqual([]);
    } finally {
      await stopped.close();
    }
  });
});
