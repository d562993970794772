import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, envelope, query, TARGETS } from './targets.js';

// The Worker's WebSocket, held by the inbox's Durable Object, against the suite's PostgreSQL.
const target = TARGETS[0] as (typeof TARGETS)[number];

interface Frame {
  type: string;
  [key: string]: any;
}

async function openSocket(agentId: string, apiKey: string) {
  const response = await target.fetch(
    new Request(`http://relay.test/v1/agents/${agentId}/ws`, {
      headers: { upgrade: 'websocket', authorization: `Bearer ${apiKey}` },
    }),
  );
  expect(response.status).toBe(101);
  const ws = response.webSocket as WebSocket;
  ws.accept();
  const queue: (Frame & { at: number })[] = [];
  ws.addEventListener('message', (event) =>
    queue.push({ ...JSON.parse(String(event.data)), at: Date.now() }),
  );
  // Generous: a wait for an event, never a claim about how fast it comes.
  const next = async (type: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const i = queue.findIndex((f) => f.type === type);
      if (i >= 0) return queue.splice(i, 1)[0] as Frame & { at: number };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`no ${type} frame within ${timeoutMs} ms: ${JSON.stringify(queue)}`);
  };
  const count = (type: string) => queue.filter((f) => f.type === type).length;
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', resolve));
  const send = (f: object) => ws.send(JSON.stringify(f));
  return { ws, next, count, closed, send };
}

const inbox = (agentId: string) => env.INBOX.get(env.INBOX.idFromName(agentId));

/** The part of a socket's session a test rewinds; see src/realtime/session.ts. */
interface Rewindable {
  sessions: WeakMap<WebSocket, { state: { lastPong: number } }>;
}

describe('the Durable Object hub in workerd', () => {
  const prefix = `rt${crypto.randomUUID().slice(0, 8)}`;
  let n = 0;
  const register = async (name: string) => {
    n += 1;
    const id = `${prefix}.${name}-${n}`;
    const r = await call(target, 'POST', '/v1/agents', { body: { agent_id: id } });
    expect(r.status).toBe(201);
    return { id, apiKey: r.body.api_key as string };
  };

  it('welcomes a socket, pushes a SEND to it and takes its ACK', async () => {
    const [from, to] = [await register('sender'), await register('receiver')];
    const socket = await openSocket(to.id, to.apiKey);
    const welcome = await socket.next('welcome');
    expect(welcome.session_id).toMatch(/^[0-9a-f-]{36}$/);
    // The heartbeat alarm, which also looks for work, is 30 s away: a push before it was woken by the SEND.
    expect(welcome.heartbeat_interval_sec).toBe(30);
    const sent = await call(target, 'POST', `/v1/agents/${to.id}/messages`, {
      token: from.apiKey,
      body: envelope(from.id, to.id),
    });
    expect(sent.status).toBe(201);
    const pushed = await socket.next('message');
    expect(pushed.message).toMatchObject({ id: sent.body.message_id, status: 'leased', attempts: 0 });
    socket.ws.send(JSON.stringify({ type: 'ack', message_id: pushed.message.id }));
    await expect
      .poll(
        async () => (await call(target, 'GET', `/v1/messages/${sent.body.message_id}/status`)).body.status,
      )
      .toBe('acked');
    socket.ws.close(1000, 'done');
  });

  it('pushes a delayed message when it is due, woken by the object’s alarm', async () => {
    const [from, to] = [await register('delay-sender'), await register('delay-receiver')];
    const sent = await call(target, 'POST', `/v1/agents/${to.id}/messages?delay=2`, {
      token: from.apiKey,
      body: envelope(from.id, to.id),
    });
    expect(sent.status).toBe(201);
    const status = await call(target, 'GET', `/v1/messages/${sent.body.message_id}/status`);
    const availableAt = Date.parse(status.body.available_at);
    // Opened after the SEND: only the alarm set for the message's time can bring it, before any ping.
    const socket = await openSocket(to.id, to.apiKey);
    await socket.next('welcome');
    const pushed = await socket.next('message');
    expect(pushed.message.id).toBe(sent.body.message_id);
    expect(pushed.at).toBeGreaterThanOrEqual(availableAt);
    expect(pushed.at - availableAt).toBeLessThan(1000);
    socket.ws.close(1000, 'done');
  });

  const send = async (from: { id: string; apiKey: string }, to: { id: string }) => {
    const sent = await call(target, 'POST', `/v1/agents/${to.id}/messages`, {
      token: from.apiKey,
      body: envelope(from.id, to.id),
    });
    expect(sent.status).toBe(201);
    return sent.body.message_id as string;
  };
  /** A sender, and a receiver with an open socket that has been welcomed. */
  const connected = async () => {
    const [from, to] = [await register('sender'), await register('receiver')];
    const socket = await openSocket(to.id, to.apiKey);
    await socket.next('welcome');
    return { from, to, socket };
  };
  const status = async (messageId: string) =>
    (await call(target, 'GET', `/v1/messages/${messageId}/status`)).body;

  it('redelivers a message nacked over the socket, with one more attempt', async () => {
    const { from, to, socket } = await connected();
    const id = await send(from, to);
    const first = await socket.next('message');
    expect(first.message).toMatchObject({ id, attempts: 0 });
    socket.send({ type: 'nack', message_id: id });
    const again = await socket.next('message');
    expect(again.message).toMatchObject({ id, attempts: 1, status: 'leased' });
    expect(again.message.lease_id).not.toBe(first.message.lease_id);
    socket.ws.close(1000, 'done');
  });

  it('extends a lease with nack and extend, keeping the message on this socket, and audits it', async () => {
    const { from, to, socket } = await connected();
    const id = await send(from, to);
    const pushed = await socket.next('message');
    socket.send({ type: 'nack', message_id: id, extend: 600 });
    await expect
      .poll(async () => Date.parse((await status(id)).lease_until), { timeout: 15_000 })
      .toBeGreaterThan(Date.parse(pushed.message.lease_until) + 500_000);
    expect(await status(id)).toMatchObject({ status: 'leased', attempts: 0 });
    const audited = () =>
      query<[string]>('select event from audit_log where message_id = $1 order by id', [id]);
    await expect.poll(audited, { timeout: 15_000 }).toContainEqual(['lease.extended']);
    // Still this socket's: an ACK over it settles the message.
    socket.send({ type: 'ack', message_id: id });
    await expect.poll(async () => (await status(id)).status, { timeout: 15_000 }).toBe('acked');
    socket.ws.close(1000, 'done');
  });

  it('holds at most WS_MAX_IN_FLIGHT unsettled pushes, and frees a slot for a message acked over HTTP', async () => {
    const [from, to] = [await register('sender'), await register('receiver')];
    const socket = await openSocket(to.id, to.apiKey);
    const welcome = await socket.next('welcome');
    const limit = welcome.max_in_flight as number;
    expect(limit).toBe(10);
    const ids: string[] = [];
    for (let i = 0; i <= limit; i++) ids.push(await send(from, to));
    const pushed = [];
    for (let i = 0; i < limit; i++) pushed.push(await socket.next('message'));
    expect(pushed.map((f) => f.message.id)).toEqual(ids.slice(0, limit));
    // Every SEND has reached the object (each request waits for its notifies): the last stays queued.
    const stats = await call(target, 'GET', `/v1/agents/${to.id}/inbox/stats`);
    expect(stats.body).toMatchObject({ ready: 1, leased: limit });
    expect(socket.count('message')).toBe(0);
    const first = pushed[0]?.message;
    const acked = await call(
      target,
      'POST',
      `/v1/agents/${to.id}/messages/${first.id}/ack?lease_id=${first.lease_id}`,
      { token: to.apiKey },
    );
    expect(acked.status).toBe(200);
    const last = await socket.next('message');
    expect(last.message.id).toBe(ids[limit]);
    socket.ws.close(1000, 'done');
  });

  it('answers a frame it cannot read, and a settle that fails, with an error frame, and stays open', async () => {
    const { from, to, socket } = await connected();
    socket.ws.send('not json');
    expect(await socket.next('error')).toMatchObject({ code: 'invalid_json' });
    socket.send({ type: 'ack' });
    expect(await socket.next('error')).toMatchObject({ code: 'validation_failed' });
    const unknown = crypto.randomUUID();
    socket.send({ type: 'ack', message_id: unknown });
    expect(await socket.next('error')).toMatchObject({ code: 'not_found', message_id: unknown });
    socket.send({ type: 'nack', message_id: unknown, extend: 30 });
    expect(await socket.next('error')).toMatchObject({ code: 'not_found', message_id: unknown });
    // Still open and pushing.
    const id = await send(from, to);
    expect((await socket.next('message')).message.id).toBe(id);
    socket.ws.close(1000, 'done');
  });

  it('closes a socket silent for two heartbeats at its alarm, leaving its lease to run out', async () => {
    const { from, to, socket: silent } = await connected();
    const id = await send(from, to);
    expect((await silent.next('message')).message.id).toBe(id);
    // As though the socket had not answered for three heartbeat intervals (30 s each here).
    await runInDurableObject(inbox(to.id), (instance, state) => {
      const { sessions } = instance as unknown as Rewindable;
      for (const ws of state.getWebSockets()) {
        const session = sessions.get(ws);
        if (session) session.state.lastPong -= 90_000;
      }
    });
    expect(await runDurableObjectAlarm(inbox(to.id))).toBe(true);
    const closed = await silent.closed;
    expect(closed.code).toBe(4000);
    // Nothing settled it: the lease runs out normally and the message goes to the next consumer.
    expect(await status(id)).toMatchObject({ status: 'leased', attempts: 0 });
  });

  it('refuses an upgrade for another agent’s inbox', async () => {
    const [a, b] = [await register('a'), await register('b')];
    const response = await target.fetch(
      new Request(`http://relay.test/v1/agents/${a.id}/ws`, {
        headers: { upgrade: 'websocket', authorization: `Bearer ${b.apiKey}` },
      }),
    );
    expect(response.status).toBe(403);
  });
});
