import { describe, expect, it } from 'vitest';
import { call, envelope, TARGETS } from './targets.js';

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
  return { ws, next };
}

describe('the Durable Object hub in workerd', () => {
  const prefix = `rt${crypto.randomUUID().slice(0, 8)}`;
  const register = async (name: string) => {
    const id = `${prefix}.${name}`;
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
