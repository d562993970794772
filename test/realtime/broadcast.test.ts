import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from '../support/relay.js';
import { connect } from '../support/ws-client.js';

// Agents whose id starts with "quiet." may not be sent task.request messages.
const POLICY = `
policies:
  - name: no-requests-to-quiet
    priority: 10
    to_agent_pattern: "quiet.*"
    type_pattern: "task.request"
    action: deny
`;

let relay: TestRelay;

// The default 30 s heartbeat: a session opened here stays live for the whole test, however slow the
// machine, since nothing heartbeats it.
beforeAll(async () => {
  relay = await startTestRelay({}, { listen: true, policy: POLICY });
});
afterAll(() => relay.close());

const openSession = async (agent: Agent) => {
  const r = await relay.call('POST', `/v1/agents/${agent.id}/sessions`, { token: agent.apiKey });
  expect(r.status).toBe(201);
  return r.body.session_id as string;
};

const broadcast = (from: Agent, overrides: Record<string, unknown> = {}) =>
  relay.call('POST', '/v1/broadcast', {
    token: from.apiKey,
    body: envelope(from.id, '*', { type: 'event', subject: 'deploy.finished', ...overrides }),
  });

describe('broadcast', () => {
  it('reaches exactly the live agents except the sender, and lists the policy’s refusals', async () => {
    const sender = await relay.registerAgent('bc.sender');
    const viaSession = await relay.registerAgent('bc.session');
    const viaSocket = await relay.registerAgent('bc.socket');
    const offline = await relay.registerAgent('bc.offline');
    const ended = await relay.registerAgent('bc.ended');
    const quiet = await relay.registerAgent('quiet.one');
    await openSession(sender);
    await openSession(viaSession);
    await openSession(quiet);
    const endedSession = await openSession(ended);
    await relay.call('DELETE', `/v1/agents/${ended.id}/sessions/${endedSession}`, { token: ended.apiKey });
    const socket = await connect(relay.baseUrl, viaSocket.id, { token: viaSocket.apiKey });
    await socket.next('welcome');

    const r = await broadcast(sender, { type: 'task.request' });
    expect(r.status).toBe(201);
    expect(r.body.recipients).toBe(2);
    expect(Object.keys(r.body.message_ids).sort()).toEqual([viaSession.id, viaSocket.id]);
    expect(r.body.refused).toEqual({ [quiet.id]: 'policy_denied' });

    const pushed = await socket.next('message');
    expect(pushed.message).toMatchObject({
      id: r.body.message_ids[viaSocket.id],
      from: `agent://${sender.id}`,
      to: `agent://${viaSocket.id}`,
      subject: 'deploy.finished',
    });
    const pulled = await relay.pull(viaSession);
    expect(pulled.body.id).toBe(r.body.message_ids[viaSession.id]);
    for (const agent of [sender, offline, ended, quiet]) expect((await relay.pull(agent)).status).toBe(204);
    await socket.close();
  });

  it('stores nothing twice when the same envelope is broadcast again', async () => {
    const [sender, listener] = [
      await relay.registerAgent('bc.again'),
      await relay.registerAgent('bc.again-l'),
    ];
    await openSession(listener);
    const body = envelope(sender.id, '*', { type: 'event' });
    const first = await relay.call('POST', '/v1/broadcast', { token: sender.apiKey, body });
    const again = await relay.call('POST', '/v1/broadcast', { token: sender.apiKey, body });
    expect(again.body.message_ids[listener.id]).toBe(first.body.message_ids[listener.id]);
    expect((await relay.stats(listener)).ready).toBe(1);
  });

  it('refuses a broadcast from someone else, to a named agent, or with a stale timestamp', async () => {
    const [a, b] = [await relay.registerAgent('bc.a'), await relay.registerAgent('bc.b')];
    const forged = await relay.call('POST', '/v1/broadcast', { token: b.apiKey, body: envelope(a.id, '*') });
    expectError(forged, 403, 'sender_mismatch');
    const named = await relay.call('POST', '/v1/broadcast', { token: a.apiKey, body: envelope(a.id, b.id) });
    expectError(named, 422, 'validation_failed');
    const stale = await broadcast(a, { timestamp: new Date(Date.now() - 3_600_000).toISOString() });
    expectError(stale, 422, 'timestamp_window_exceeded');
  });
});
