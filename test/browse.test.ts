import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { type Agent, startTestRelay, type TestRelay } from './support/relay.js';

// `browse.quiet` may send to nobody but `browse.alice`; jwt-limited tokens narrow it further.
const POLICY = `
policies:
  - name: quiet-only-to-alice
    priority: 10
    from_agent_pattern: '^browse\\.quiet$'
    to_agent_pattern: '^browse\\.alice$'
    action: allow
  - name: quiet-nowhere-else
    priority: 20
    from_agent_pattern: '^browse\\.quiet$'
    action: deny
`;

let relay: TestRelay;
let alice: Agent;
let bob: Agent;
let carol: Agent;
let quiet: Agent;

beforeAll(async () => {
  relay = await startTestRelay({}, { policy: POLICY });
  alice = await relay.registerAgent('browse.alice');
  bob = await relay.registerAgent('browse.bob');
  carol = await relay.registerAgent('browse.carol');
  quiet = await relay.registerAgent('browse.quiet');
});
afterAll(() => relay.close());

const listOf = (agent: Agent, query = '', token = agent.apiKey) =>
  relay.call('GET', `/v1/agents/${agent.id}/messages${query}`, { token });

describe('listing messages', () => {
  it('lists an inbox newest first with each message’s state, and never leases anything', async () => {
    const first = (await relay.send(alice, bob.id, { subject: 'first' })).body.message_id;
    const second = (await relay.send(alice, bob.id, { subject: 'second' })).body.message_id;
    const pulled = await relay.pull(bob);
    expect(pulled.body.id).toBe(first);
    const r = await listOf(bob);
    expect(r.status).toBe(200);
    expect(r.body.next_cursor).toBeNull();
    expect(r.body.messages.map((m: any) => [m.id, m.status])).toEqual([
      [second, 'delivered'],
      [first, 'leased'],
    ]);
    expect(r.body.messages[1]).toMatchObject({
      from: `agent://${alice.id}`,
      to: `agent://${bob.id}`,
      subject: 'first',
      attempts: 0,
      acked_at: null,
      last_error: null,
    });
    expect(Date.parse(r.body.messages[1].lease_until)).toBeGreaterThan(Date.now());
    expect(Date.parse(r.body.messages[1].available_at)).toBeGreaterThan(0);
    expect(r.body.messages[1]).not.toHaveProperty('lease_id');
    // Looking took nothing: the second message is still there to pull, the first still leased once.
    expect(await relay.stats(bob)).toMatchObject({ ready: 1, leased: 1 });
    await relay.ack(bob, first, pulled.body.lease_id);
  });

  it('filters by status and direction, and pages newest first through an opaque cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await relay.send(carol, alice.id, { subject: `page ${i}` })).body.message_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?direction=sent&status=delivered&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await listOf(carol, query);
      expect(r.status).toBe(200);
      seen.push(...r.body.messages.map((m: any) => m.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const acked = await listOf(carol, '?direction=sent&status=acked');
    expect(acked.body.messages).toEqual([]);
    const inbox = await listOf(alice, '?status=delivered&limit=100');
    expect(inbox.body.messages.map((m: any) => m.id)).toEqual(expect.arrayContaining(ids));
  });

  it('refuses an unknown status or direction, a bad limit and a foreign cursor with 422', async () => {
    for (const query of [
      '?status=queued',
      '?status=nacked',
      '?direction=both',
      '?limit=0',
      '?limit=x',
      '?cursor=zzz',
    ]) {
      expectError(await listOf(bob, query), 422, 'validation_failed');
    }
  });

  it('shows another agent’s messages to nobody but the agent itself and the admin', async () => {
    expectError(await listOf(bob, '', carol.apiKey), 403, 'forbidden');
    expectError(await listOf(bob, '?direction=sent', carol.apiKey), 403, 'forbidden');
    expectError(
      await relay.call('GET', `/v1/agents/${bob.id}/messages`, { token: null }),
      401,
      'unauthorized',
    );
    expect((await relay.call('GET', `/v1/agents/${bob.id}/messages`)).status).toBe(200);
  });
});

describe('threads', () => {
  it('returns the first message and every reply carrying its id, oldest first, to each party', async () => {
    const { message_id: root } = (await relay.send(alice, carol.id, { subject: 'question' })).body;
    const pulled = await relay.pull(carol);
    expect(pulled.body.id).toBe(root);
    const reply = await relay.call(
      'POST',
      `/v1/agents/${carol.id}/messages/${root}/reply?lease_id=${pulled.body.lease_id}`,
      {
        token: carol.apiKey,
        body: { result: { answer: 42 } },
      },
    );
    expect(reply.status).toBe(200);
    for (const party of [alice, carol]) {
      const r = await relay.call('GET', `/v1/threads/${root}`, { token: party.apiKey });
      expect(r.status).toBe(200);
      expect(r.body.messages.map((m: any) => [m.id, m.type, m.status])).toEqual([
        [root, 'task.request', 'acked'],
        [reply.body.message_id, 'task.result', 'delivered'],
      ]);
      expect(r.body.messages[1].correlation_id).toBe(root);
    }
    expect((await relay.call('GET', `/v1/threads/${root}`)).body.messages).toHaveLength(2);
  });

  it('limits a thread to what the caller sent or received, and is 404 when it sees none', async () => {
    const tag = `conv-${crypto.randomUUID()}`;
    await relay.send(alice, bob.id, { correlation_id: tag });
    await relay.send(carol, bob.id, { correlation_id: tag });
    const asAlice = await relay.call('GET', `/v1/threads/${tag}`, { token: alice.apiKey });
    expect(asAlice.body.messages.map((m: any) => m.from)).toEqual([`agent://${alice.id}`]);
    expect((await relay.call('GET', `/v1/threads/${tag}`, { token: bob.apiKey })).body.messages).toHaveLength(
      2,
    );
    expectError(await relay.call('GET', `/v1/threads/${tag}`, { token: quiet.apiKey }), 404, 'not_found');
    expectError(await relay.call('GET', `/v1/threads/no-such-thread`), 404, 'not_found');
    expectError(await relay.call('GET', `/v1/threads/${'x'.repeat(256)}`), 422, 'validation_failed');
  });
});

describe('listing agents', () => {
  it('shows the admin every agent with online and last_seen, paged by id', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await relay.call('GET', `/v1/agents${query}`);
      expect(r.status).toBe(200);
      expect(r.body.agents.length).toBeLessThanOrEqual(2);
      for (const a of r.body.agents) expect(a).toMatchObject({ online: expect.any(Boolean) });
      seen.push(...r.body.agents.map((a: any) => a.agent_id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([alice.id, bob.id, carol.id, quiet.id]);
  });

  it('marks an agent with a live session online', async () => {
    const s = await relay.call('POST', `/v1/agents/${carol.id}/sessions`, { token: carol.apiKey });
    expect(s.status).toBe(201);
    const r = await relay.call('GET', '/v1/agents?limit=100');
    const online = Object.fromEntries(r.body.agents.map((a: any) => [a.agent_id, a.online]));
    expect(online[carol.id]).toBe(true);
    expect(online[bob.id]).toBe(false);
    await relay.call('DELETE', `/v1/agents/${carol.id}/sessions/${s.body.session_id}`, {
      token: carol.apiKey,
    });
  });

  it('shows an agent the others it may send to under the policy, not itself', async () => {
    const asBob = await relay.call('GET', '/v1/agents', { token: bob.apiKey });
    expect(asBob.status).toBe(200);
    expect(asBob.body.agents.map((a: any) => a.agent_id)).toEqual([alice.id, carol.id, quiet.id]);
    const asQuiet = await relay.call('GET', '/v1/agents?limit=1', { token: quiet.apiKey });
    expect(asQuiet.body).toMatchObject({ agents: [{ agent_id: alice.id }], next_cursor: null });
  });
});
