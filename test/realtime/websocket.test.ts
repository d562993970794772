import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/database.js';
import { type Agent, startTestRelay, type TestRelay } from '../support/relay.js';
import { connect } from '../support/ws-client.js';

let relay: TestRelay;
let n = 0;
const fresh = (on = relay) => on.registerAgent(`ws.agent-${++n}`);

beforeAll(async () => {
  relay = await startTestRelay({ HEARTBEAT_INTERVAL_SEC: '1', WS_MAX_IN_FLIGHT: '3' }, { listen: true });
});
afterAll(() => relay.close());

const open = (agent: Agent, query = '') => connect(relay.baseUrl, agent.id, { token: agent.apiKey, query });

describe('the WebSocket gateway', () => {
  it('welcomes a connection with a session of its own and marks the agent seen', async () => {
    const agent = await fresh();
    const before = Date.now();
    const socket = await open(agent);
    const welcome = await socket.next('welcome');
    expect(welcome.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(welcome).toMatchObject({ heartbeat_interval_sec: 1, max_in_flight: 3 });
    const got = await relay.call('GET', `/v1/agents/${agent.id}`);
    // Seen since the socket opened (a second of slack for the database's clock).
    expect(Date.parse(got.body.last_seen)).toBeGreaterThan(before - 1000);
    await socket.close();
  });

  it('acks over the socket, and audits and counts the push and the ack like a PULL and an ACK', async () => {
    const [from, to] = [await fresh(), await fresh()];
    const sent = await relay.send(from, to.id);
    const socket = await open(to);
    const pushed = await socket.next('message');
    socket.send({ type: 'ack', message_id: pushed.message.id });
    await expect
      .poll(async () => (await relay.call('GET', `/v1/messages/${sent.body.message_id}/status`)).body.status)
      .toBe('acked');
    await socket.close();
    const scrape = await relay.metrics();
    expect(scrape.sum('admp_messages_received_total', { agent_id: to.id })).toBe(1);
    expect(scrape.sum('admp_messages_acked_total', { agent_id: to.id })).toBe(1);
    await relay.deps.audit.flush();
    const trail = await rows<{ event: string; via: string }>(
      relay.db,
      sql`select event, detail->>'via' as via from audit_log where message_id = ${sent.body.message_id} order by id`,
    );
    expect(trail).toEqual([
      { event: 'message.sent', via: 'send' },
      { event: 'message.leased', via: 'push' },
      { event: 'message.acked', via: 'push' },
    ]);
  });

  it('redelivers a message nacked over the socket, with one more attempt', async () => {
    const [from, to] = [await fresh(), await fresh()];
    await relay.send(from, to.id);
    const socket = await open(to);
    const first = await socket.next('message');
    socket.send({ type: 'nack', message_id: first.message.id });
    const again = await socket.next('message');
    expect(again.message).toMatchObject({ id: first.message.id, attempts: 1 });
    expect(again.message.lease_id).not.toBe(first.message.lease_id);
    await socket.close();
  });

  it('extends a lease with nack and extend, keeping the message on this socket', async () => {
    const [from, to] = [await fresh(), await fresh()];
    await relay.send(from, to.id);
    const socket = await open(to, 'visibility_timeout=5');
    const pushed = await socket.next('message');
    socket.send({ type: 'nack', message_id: pushed.message.id, extend: 60 });
    await expect
      .poll(
        async () => (await relay.call('GET', `/v1/messages/${pushed.message.id}/status`)).body.lease_until,
      )
      .not.toBe(pushed.message.lease_until);
    const status = (await relay.call('GET', `/v1/messages/${pushed.message.id}/status`)).body;
    expect(Date.parse(status.lease_until) - Date.parse(pushed.message.lease_until)).toBeGreaterThan(50_000);
    expect(status).toMatchObject({ status: 'leased', attempts: 0 });
    await socket.close();
  });

  it('holds at most WS_MAX_IN_FLIGHT unacked pushes; the rest wait for a settle', async () => {
    const [from, to] = [await fresh(), await fresh()];
    for (let i = 0; i < 5; i++) await relay.send(from, to.id);
    const socket = await open(to);
    const pushed = [await socket.next('message'), await socket.next('message'), await socket.next('message')];
    await new Promise((r) => setTimeout(r, 200));
    expect(socket.pending().filter((f) => f.type === 'message')).toHaveLength(0);
    socket.send({ type: 'ack', message_id: pushed[0]?.message.id });
    await socket.next('message');
    // Settled over HTTP instead, the slot frees too.
    expect((await relay.ack(to, pushed[1]?.message.id, pushed[1]?.message.lease_id)).status).toBe(200);
    await socket.next('message');
    expect(await relay.stats(to)).toMatchObject({ leased: 3, ready: 0 });
    await socket.close();
  });

  it('answers a frame it cannot read with an error frame and stays open', async () => {
    const agent = await fresh();
    const socket = await open(agent);
    await socket.next('welcome');
    socket.ws.send('not json');
    expect(await socket.next('error')).toMatchObject({ code: 'invalid_json' });
    socket.send({ type: 'ack', message_id: 'nope' });
    expect(await socket.next('error')).toMatchObject({ code: 'validation_failed' });
    socket.send({ type: 'ack', message_id: crypto.randomUUID() });
    expect(await socket.next('error')).toMatchObject({ code: 'not_found' });
    socket.send({ type: 'pong' });
    expect(socket.ws.readyState).toBe(1);
    await socket.close();
  });

  it('takes the API key in ?token=, and only on this route', async () => {
    const agent = await fresh();
    const socket = await connect(relay.baseUrl, agent.id, { token: agent.apiKey, inQuery: true });
    await socket.next('welcome');
    await socket.close();
    const pull = await relay.call('POST', `/v1/agents/${agent.id}/inbox/pull?token=${agent.apiKey}`, {
      token: null,
    });
    expect(pull.status).toBe(401);
    // Credentials in the query and in a header at once: refused, whichever would have worked.
    const both = await relay.call('GET', `/v1/agents/${agent.id}/ws?token=${agent.apiKey}`, {
      token: agent.apiKey,
    });
    expect([both.status, both.body.error.code]).toEqual([401, 'unauthorized']);
    expect(both.body.error.message).toBe('send ?token= or credentials in headers, not both');
  });

  it('refuses an upgrade without credentials, with a bad token, or for another agent’s inbox', async () => {
    const [a, b] = [await fresh(), await fresh()];
    await expect(connect(relay.baseUrl, a.id, {})).rejects.toThrow('401');
    await expect(connect(relay.baseUrl, a.id, { token: 'x'.repeat(20), inQuery: true })).rejects.toThrow(
      '401',
    );
    await expect(connect(relay.baseUrl, a.id, { token: b.apiKey })).rejects.toThrow('403');
  });

  it('answers a plain GET on the socket path with 426 in the error shape', async () => {
    const agent = await fresh();
    const r = await relay.call('GET', `/v1/agents/${agent.id}/ws`, { token: agent.apiKey });
    expect(r).toMatchObject({ status: 426, body: { error: { code: 'upgrade_required' } } });
  });

  it('closes a socket that stops answering pings and redelivers its message to another connection', {
    timeout: 60_000,
  }, async () => {
    const [from, to] = [await fresh(), await fresh()];
    // The lease outlasts the two missed heartbeats that close the silent socket, so the message is
    // redelivered only once that socket is gone, never to it again.
    const silent = await open(to, 'visibility_timeout=10');
    await silent.next('welcome');
    const sent = await relay.send(from, to.id);
    expect((await silent.next('message')).message.id).toBe(sent.body.message_id);
    silent.silence();
    const other = await open(to, 'visibility_timeout=30');
    await other.next('welcome');
    expect(await silent.closed).toBe(4000);
    const redelivered = await other.next('message', 30_000);
    expect(redelivered.message).toMatchObject({ id: sent.body.message_id, attempts: 1 });
    await other.close();
  });
});

describe('a push', () => {
  // The default 30 s heartbeat: every tick also looks for work, so on `relay` (1 s) a push could
  // come from a tick; here a push before the first ping can only come from the SEND's wake.
  let quiet: TestRelay;
  beforeAll(async () => {
    quiet = await startTestRelay({}, { listen: true });
  });
  afterAll(() => quiet.close());

  it('comes as the SEND wakes it, leased exactly as PULL leases it', async () => {
    const [from, to] = [await fresh(quiet), await fresh(quiet)];
    const socket = await connect(quiet.baseUrl, to.id, { token: to.apiKey });
    expect(await socket.next('welcome')).toMatchObject({ heartbeat_interval_sec: 30 });
    const sent = await quiet.send(from, to.id);
    expect(sent.status).toBe(201);
    const pushed = await socket.next('message');
    expect(socket.pending(), 'pushed before any heartbeat tick').not.toContainEqual(
      expect.objectContaining({ type: 'ping' }),
    );
    expect(pushed.message).toMatchObject({
      id: sent.body.message_id,
      from: `agent://${from.id}`,
      status: 'leased',
      attempts: 0,
    });
    expect(pushed.message.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    // Leased: a PULL finds nothing.
    expect((await quiet.pull(to)).status).toBe(204);
    await socket.close();
  });
});
