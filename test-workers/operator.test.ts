import { describe, expect, it } from 'vitest';
import { call, envelope, TARGETS, type Target } from './targets.js';

interface Agent {
  id: string;
  apiKey: string;
}

// The operator toolkit (dead letters, delay, cancel, browsing) on each way of running the relay
// in workerd, against the suite's PostgreSQL.
describe.each(TARGETS)('$name', (target: Target) => {
  const prefix = `op${crypto.randomUUID().slice(0, 8)}`;
  let n = 0;
  const register = async (): Promise<Agent> => {
    const id = `${prefix}.agent-${++n}`;
    const r = await call(target, 'POST', '/v1/agents', { body: { agent_id: id } });
    expect(r.status).toBe(201);
    return { id, apiKey: r.body.api_key };
  };
  const send = (from: Agent, to: Agent, query = '', overrides: Record<string, unknown> = {}) =>
    call(target, 'POST', `/v1/agents/${to.id}/messages${query}`, {
      token: from.apiKey,
      body: envelope(from.id, to.id, overrides),
    });
  const pull = (agent: Agent, query = '') =>
    call(target, 'POST', `/v1/agents/${agent.id}/inbox/pull${query}`, { token: agent.apiKey });
  const statusOf = async (id: string) => (await call(target, 'GET', `/v1/messages/${id}/status`)).body;

  /** Sends a message and NACKs it until it dies (three attempts by default). */
  const kill = async (from: Agent, to: Agent) => {
    const { message_id } = (await send(from, to)).body;
    for (;;) {
      const p = await pull(to);
      const r = await call(
        target,
        'POST',
        `/v1/agents/${to.id}/messages/${message_id}/nack?lease_id=${p.body.lease_id}`,
        {
          token: to.apiKey,
        },
      );
      if (r.body.status === 'dead') return message_id as string;
    }
  };

  it('lists dead letters, redrives them to one puller, and purges one', async () => {
    const [from, to, stranger] = [await register(), await register(), await register()];
    const first = await kill(from, to);
    const second = await kill(from, to);
    const list = await call(target, 'GET', `/v1/agents/${to.id}/dead-letters?limit=1`, { token: to.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.messages.map((m: any) => [m.id, m.status, m.attempts])).toEqual([[first, 'dead', 3]]);
    const page2 = await call(
      target,
      'GET',
      `/v1/agents/${to.id}/dead-letters?limit=1&cursor=${encodeURIComponent(list.body.next_cursor)}`,
      { token: to.apiKey },
    );
    expect(page2.body).toMatchObject({ messages: [{ id: second }], next_cursor: null });
    const foreign = await call(target, 'GET', `/v1/agents/${to.id}/dead-letters`, { token: stranger.apiKey });
    expect(foreign.status).toBe(403);
    const redriven = await call(target, 'POST', `/v1/agents/${to.id}/dead-letters/redrive`, {
      token: to.apiKey,
      body: { message_ids: [first] },
    });
    expect(redriven).toMatchObject({ status: 200, body: { redriven: 1 } });
    const pulls = await Promise.all([pull(to), pull(to), pull(to)]);
    expect(pulls.filter((p) => p.status === 200).map((p) => p.body.id)).toEqual([first]);
    const purge = (mid: string) =>
      call(target, 'DELETE', `/v1/agents/${to.id}/dead-letters/${mid}`, { token: to.apiKey });
    expect((await purge(second)).status).toBe(204);
    expect((await purge(second)).status).toBe(404);
    expect((await purge('not-a-uuid')).status).toBe(404);
  });

  it('hides a delayed SEND and a backed-off NACK from PULL and STATS until available_at', async () => {
    const [from, to] = [await register(), await register()];
    const delayed = await send(from, to, '?delay=60');
    expect(delayed.status).toBe(201);
    const status = await statusOf(delayed.body.message_id);
    expect(Date.parse(status.available_at)).toBeGreaterThan(Date.now() + 50_000);
    expect((await pull(to)).status).toBe(204);
    const { message_id } = (await send(from, to)).body;
    const p = await pull(to);
    const nacked = await call(
      target,
      'POST',
      `/v1/agents/${to.id}/messages/${message_id}/nack?lease_id=${p.body.lease_id}&delay=60`,
      {
        token: to.apiKey,
      },
    );
    expect(nacked.body).toEqual({ status: 'delivered', attempts: 1 });
    expect((await pull(to)).status).toBe(204);
    const stats = await call(target, 'GET', `/v1/agents/${to.id}/inbox/stats`, { token: to.apiKey });
    expect(stats.body).toMatchObject({ ready: 0, leased: 0 });
    expect((await send(from, to, '?delay=61', { ttl_sec: 60 })).status).toBe(422);
  });

  it('cancels a delivered message for its sender only, and 409 once leased', async () => {
    const [from, to] = [await register(), await register()];
    const a = (await send(from, to)).body.message_id;
    expect((await call(target, 'DELETE', `/v1/messages/${a}`, { token: to.apiKey })).status).toBe(404);
    const r = await call(target, 'DELETE', `/v1/messages/${a}`, { token: from.apiKey });
    expect(r).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    const b = (await send(from, to)).body.message_id;
    expect((await pull(to)).body.id).toBe(b);
    const late = await call(target, 'DELETE', `/v1/messages/${b}`, { token: from.apiKey });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'invalid_state' } } });
  });

  it('browses messages, a thread and the agents without taking anything', async () => {
    const [from, to, stranger] = [await register(), await register(), await register()];
    const root = (await send(from, to)).body.message_id;
    await send(from, to, '', { correlation_id: root });
    const inbox = await call(target, 'GET', `/v1/agents/${to.id}/messages?status=delivered`, {
      token: to.apiKey,
    });
    expect(inbox.body.messages).toHaveLength(2);
    expect(inbox.body.next_cursor).toBeNull();
    const sent = await call(target, 'GET', `/v1/agents/${from.id}/messages?direction=sent`, {
      token: from.apiKey,
    });
    expect(sent.body.messages.map((m: any) => m.status)).toEqual(['delivered', 'delivered']);
    const thread = await call(target, 'GET', `/v1/threads/${root}`, { token: to.apiKey });
    expect(thread.body.messages.map((m: any) => m.id)[0]).toBe(root);
    expect(thread.body.messages).toHaveLength(2);
    expect((await call(target, 'GET', `/v1/threads/${root}`, { token: stranger.apiKey })).status).toBe(404);
    expect(
      (await call(target, 'GET', `/v1/agents/${to.id}/messages`, { token: stranger.apiKey })).status,
    ).toBe(403);
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = await call(target, 'GET', `/v1/agents?limit=200${query}`, { token: from.apiKey });
      expect(page.status).toBe(200);
      listed.push(...page.body.agents.map((a: any) => a.agent_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(listed).toEqual(expect.arrayContaining([to.id, stranger.id]));
    expect(listed).not.toContain(from.id);
    const stats = await call(target, 'GET', `/v1/agents/${to.id}/inbox/stats`, { token: to.apiKey });
    expect(stats.body).toMatchObject({ ready: 2, leased: 0 });
  });
});
