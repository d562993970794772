import { describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../src/routes/console.js';
import { CONSOLE_SCRIPT, CONSOLE_STYLE } from '../src/routes/console-assets.generated.js';
import { call, envelope, query, sleep, TARGETS, type Target } from './targets.js';

interface Agent {
  id: string;
  apiKey: string;
}

// Every endpoint once, on each way of running the relay in workerd, against the suite's PostgreSQL.
describe.each(TARGETS)('$name', (target: Target) => {
  const prefix = `w${crypto.randomUUID().slice(0, 8)}`;
  let n = 0;
  const register = async (): Promise<Agent> => {
    const id = `${prefix}.agent-${++n}`;
    const r = await call(target, 'POST', '/v1/agents', { body: { agent_id: id } });
    expect(r.status).toBe(201);
    return { id, apiKey: r.body.api_key };
  };
  const send = (from: Agent, to: Agent) =>
    call(target, 'POST', `/v1/agents/${to.id}/messages`, {
      token: from.apiKey,
      body: envelope(from.id, to.id),
    });
  const pull = (agent: Agent, visibility = 30) =>
    call(target, 'POST', `/v1/agents/${agent.id}/inbox/pull?visibility_timeout=${visibility}`, {
      token: agent.apiKey,
    });
  const statusOf = async (id: string) => (await call(target, 'GET', `/v1/messages/${id}/status`)).body;

  it('answers /health with the database reachable, without credentials', async () => {
    const r = await call(target, 'GET', '/health', { token: null });
    expect(r).toMatchObject({ status: 200, body: { status: 'healthy' } });
  });

  it('serves the OpenAPI document', async () => {
    const r = await call(target, 'GET', '/openapi.json', { token: null });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(r.body.paths['/v1/agents/{id}/inbox/pull']).toBeDefined();
  });

  it('serves the console and the assets bundled into the Worker, under a strict CSP', async () => {
    const get = (path: string) => target.fetch(new Request(`http://relay.test${path}`));
    const page = await get('/console');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    const html = await page.text();
    const script = await get(html.match(/src="([^"]+\.js)"/)?.[1] ?? 'no script');
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toBe(CONSOLE_SCRIPT);
    const style = await get(html.match(/href="([^"]+\.css)"/)?.[1] ?? 'no stylesheet');
    expect(await style.text()).toBe(CONSOLE_STYLE);
  });

  it('refuses a request without credentials', async () => {
    const r = await call(target, 'GET', '/v1/agents', { token: null });
    expect(r).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
  });

  it('writes the audit row of a refused request after answering it', async () => {
    const requestId = crypto.randomUUID();
    const token = `admp_${'0'.repeat(16)}_${'x'.repeat(43)}`;
    const r = await call(target, 'GET', '/v1/agents', { token, headers: { 'x-request-id': requestId } });
    expect(r.status).toBe(401);
    const events = () => query<[string]>('select event from audit_log where request_id = $1', [requestId]);
    await expect.poll(events).toEqual([['auth.failure']]);
  });

  it('enforces the rules a Node relay published to the policy table, after its next refresh', async () => {
    const [sender, recipient] = [await register(), await register()];
    const rule = `deny-${sender.id}`;
    const pattern = `^${sender.id.replaceAll('.', '\\.')}$`;
    await query(
      `insert into policy (name, priority, from_agent_pattern, action) values ($1, 1, $2, 'deny')`,
      [rule, pattern],
    );
    try {
      await expect
        .poll(async () => (await send(sender, recipient)).body?.error?.code, {
          timeout: 20_000,
          interval: 250,
        })
        .toBe('policy_denied');
      expect((await send(recipient, sender)).status).toBe(201);
    } finally {
      await query('delete from policy where name = $1', [rule]);
    }
  });

  it('registers, reads and deletes an agent', async () => {
    const agent = await register();
    const got = await call(target, 'GET', `/v1/agents/${agent.id}`, { token: agent.apiKey });
    expect(got).toMatchObject({ status: 200, body: { agent_id: agent.id } });
    expect((await call(target, 'DELETE', `/v1/agents/${agent.id}`)).status).toBe(204);
    expect((await call(target, 'GET', `/v1/agents/${agent.id}`)).status).toBe(404);
  });

  it('issues an API key that works, and revokes it', async () => {
    const agent = await register();
    const issued = await call(target, 'POST', `/v1/agents/${agent.id}/api-keys`, { body: {} });
    expect(issued.status).toBe(201);
    const key = issued.body.api_key as string;
    expect((await call(target, 'GET', `/v1/agents/${agent.id}`, { token: key })).status).toBe(200);
    const revoked = await call(target, 'DELETE', `/v1/agents/${agent.id}/api-keys/${issued.body.key_id}`);
    expect(revoked.status).toBe(204);
    expect((await call(target, 'GET', `/v1/agents/${agent.id}`, { token: key })).status).toBe(401);
  });

  it('sends, pulls and acks a message, and reports its status', async () => {
    const [from, to] = [await register(), await register()];
    const sent = await send(from, to);
    expect(sent).toMatchObject({ status: 201, body: { status: 'delivered' } });
    const lease = await pull(to);
    expect(lease).toMatchObject({
      status: 200,
      body: { id: sent.body.message_id, status: 'leased', attempts: 0 },
    });
    const ack = await call(
      target,
      'POST',
      `/v1/agents/${to.id}/messages/${lease.body.id}/ack?lease_id=${lease.body.lease_id}`,
      { token: to.apiKey },
    );
    expect(ack).toMatchObject({ status: 200, body: { status: 'acked' } });
    expect(await statusOf(lease.body.id)).toMatchObject({ status: 'acked', acked_at: expect.any(String) });
    expect((await pull(to)).status).toBe(204);
  });

  it('nacks a message back to the inbox with one more attempt', async () => {
    const [from, to] = [await register(), await register()];
    await send(from, to);
    const lease = await pull(to);
    const nack = await call(target, 'POST', `/v1/agents/${to.id}/messages/${lease.body.id}/nack`, {
      token: to.apiKey,
    });
    expect(nack).toMatchObject({ status: 200, body: { status: 'delivered', attempts: 1 } });
  });

  it('replies to a message: the original is acked and the answer reaches the sender', async () => {
    const [from, to] = [await register(), await register()];
    const original = (await send(from, to)).body.message_id;
    const lease = await pull(to);
    const reply = await call(target, 'POST', `/v1/agents/${to.id}/messages/${original}/reply`, {
      token: to.apiKey,
      body: { result: { ok: true } },
    });
    expect(reply.status).toBe(200);
    expect((await statusOf(lease.body.id)).status).toBe('acked');
    const answer = await pull(from);
    expect(answer.body).toMatchObject({
      id: reply.body.message_id,
      type: 'task.result',
      correlation_id: original,
    });
  });

  it('counts an inbox and reclaims its expired leases', async () => {
    const [from, to] = [await register(), await register()];
    await send(from, to);
    await send(from, to);
    await pull(to, 1);
    const stats = await call(target, 'GET', `/v1/agents/${to.id}/inbox/stats`, { token: to.apiKey });
    expect(stats.body).toMatchObject({ ready: 1, leased: 1, dead: 0 });
    await sleep(1100);
    const reclaim = await call(target, 'POST', `/v1/agents/${to.id}/inbox/reclaim`, { token: to.apiKey });
    expect(reclaim).toMatchObject({ status: 200, body: { reclaimed: 1 } });
  });

  it('returns an expired lease to its inbox when the lease cron fires', async () => {
    const [from, to] = [await register(), await register()];
    const id = (await send(from, to)).body.message_id;
    await pull(to, 1);
    await sleep(1100);
    await target.scheduled('* * * * *');
    expect(await statusOf(id)).toMatchObject({
      status: 'delivered',
      attempts: 1,
      last_error: 'Lease expired',
    });
  });

  it('runs the TTL sweep when the TTL cron fires', async () => {
    const [from, to] = [await register(), await register()];
    const body = envelope(from.id, to.id, { ttl_sec: 1 });
    const id = (await call(target, 'POST', `/v1/agents/${to.id}/messages`, { token: from.apiKey, body })).body
      .message_id;
    await sleep(1100);
    await target.scheduled('*/5 * * * *');
    expect(await statusOf(id)).toMatchObject({ status: 'dead', last_error: 'TTL expired' });
  });
});
