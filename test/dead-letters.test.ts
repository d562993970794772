import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { type Agent, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let sender: Agent;
let n = 0;

// One attempt: a single NACK kills a message, so a test makes dead letters in two calls.
beforeAll(async () => {
  relay = await startTestRelay({ MAX_ATTEMPTS: '1', AUDIT_MESSAGES: 'false' });
  sender = await relay.registerAgent('dl-sender');
});
afterAll(() => relay.close());

const freshInbox = () => relay.registerAgent(`dl-inbox-${++n}`);

/** Sends a message to `inbox` and NACKs it to death; answers its id. */
async function kill(inbox: Agent, subject = 'doomed'): Promise<string> {
  const { message_id } = (await relay.send(sender, inbox.id, { subject })).body;
  const pulled = await relay.pull(inbox);
  expect(pulled.body.id).toBe(message_id);
  const nacked = await relay.nack(inbox, message_id, `?lease_id=${pulled.body.lease_id}&reason=boom`);
  expect(nacked.body.status).toBe('dead');
  return message_id;
}

const list = (inbox: Agent, query = '') =>
  relay.call('GET', `/v1/agents/${inbox.id}/dead-letters${query}`, { token: inbox.apiKey });

const redrive = (inbox: Agent, body: unknown) =>
  relay.call('POST', `/v1/agents/${inbox.id}/dead-letters/redrive`, { token: inbox.apiKey, body });

describe('listing dead letters', () => {
  it('lists them oldest death first with the envelope, attempts, last_error and died_at', async () => {
    const inbox = await freshInbox();
    const first = await kill(inbox, 'first');
    const second = await kill(inbox, 'second');
    const r = await list(inbox);
    expect(r.status).toBe(200);
    expect(r.body.next_cursor).toBeNull();
    expect(r.body.messages.map((m: any) => m.id)).toEqual([first, second]);
    const [m] = r.body.messages;
    expect(m).toMatchObject({
      id: first,
      from: `agent://${sender.id}`,
      to: `agent://${inbox.id}`,
      subject: 'first',
      body: { email: 'user@example.com' },
      status: 'dead',
      attempts: 1,
      last_error: 'Max attempts exceeded: boom',
    });
    expect(Date.parse(m.died_at)).toBeGreaterThan(0);
    expect(m).not.toHaveProperty('lease_id');
  });

  it('pages with an opaque cursor until next_cursor is null, each dead letter once', async () => {
    const inbox = await freshInbox();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await kill(inbox));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await list(inbox, query);
      expect(r.status).toBe(200);
      expect(r.body.messages.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.messages.map((m: any) => m.id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
  });

  it('refuses a cursor it did not give out and a limit out of range with 422', async () => {
    const inbox = await freshInbox();
    expectError(await list(inbox, '?cursor=not-a-cursor'), 422, 'validation_failed');
    expectError(await list(inbox, `?cursor=${btoa('[1,2]')}`), 422, 'validation_failed');
    expectError(await list(inbox, '?limit=0'), 422, 'validation_failed');
    expectError(await list(inbox, '?limit=100000'), 422, 'validation_failed');
  });

  it('does not list live or acked messages', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    const pulled = await relay.pull(inbox);
    await relay.ack(inbox, pulled.body.id, pulled.body.lease_id);
    expect(message_id).toBeTruthy();
    expect((await list(inbox)).body.messages).toEqual([]);
  });
});

describe('redrive', () => {
  it('brings a dead message back to exactly one of several concurrent pullers, attempts 0, fresh TTL', async () => {
    const inbox = await freshInbox();
    const id = await kill(inbox);
    const before = (await relay.call('GET', `/v1/messages/${id}/status`)).body;
    const r = await redrive(inbox, { message_ids: [id] });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ redriven: 1 });
    const status = (await relay.call('GET', `/v1/messages/${id}/status`)).body;
    expect(status).toMatchObject({ status: 'delivered', attempts: 0 });
    expect((await list(inbox)).body.messages).toEqual([]);
    expect((await relay.stats(inbox)).ready).toBe(1);
    const pulls = await Promise.all(Array.from({ length: 8 }, () => relay.pull(inbox)));
    const got = pulls.filter((p) => p.status === 200);
    expect(got.map((p) => p.body.id)).toEqual([id]);
    expect(pulls.filter((p) => p.status === 204)).toHaveLength(7);
    expect(got[0]?.body.attempts).toBe(0);
    expect(Date.parse(before.created_at)).toBeLessThanOrEqual(Date.now());
  });

  it('gives the message a fresh expiry: now + ttl_sec, not its first one', async () => {
    const inbox = await freshInbox();
    const id = await kill(inbox);
    // Its envelope's timestamp lies two minutes back with a 60 s TTL: dead on arrival, unless redriven fresh.
    await relay.db.execute(
      `update message set expires_at = now() - interval '1 minute', ttl_sec = 60 where id = '${id}'`,
    );
    await redrive(inbox, { message_ids: [id] });
    const pulled = await relay.pull(inbox);
    expect(pulled.status).toBe(200);
    expect(pulled.body.id).toBe(id);
  });

  it('redrives all with {all: true}, and skips ids that are not its dead letters', async () => {
    const inbox = await freshInbox();
    const other = await freshInbox();
    const a = await kill(inbox);
    const b = await kill(inbox);
    const foreign = await kill(other);
    const live = (await relay.send(sender, inbox.id)).body.message_id;
    expect((await redrive(inbox, { message_ids: [foreign, live, crypto.randomUUID()] })).body).toEqual({
      redriven: 0,
    });
    expect((await redrive(inbox, { all: true })).body).toEqual({ redriven: 2 });
    expect((await redrive(inbox, { all: true })).body).toEqual({ redriven: 0 });
    const statuses = await Promise.all(
      [a, b, foreign].map(async (id) => (await relay.call('GET', `/v1/messages/${id}/status`)).body.status),
    );
    expect(statuses).toEqual(['delivered', 'delivered', 'dead']);
  });

  it('audits message.redriven and counts admp_messages_redriven_total even without AUDIT_MESSAGES', async () => {
    const inbox = await freshInbox();
    const id = await kill(inbox);
    await redrive(inbox, { message_ids: [id] });
    await relay.deps.audit.flush();
    const audit = (await relay.db.execute(
      `select event, agent_id, detail from audit_log where message_id = '${id}' order by id`,
    )) as unknown as { rows: { event: string; agent_id: string; detail: any }[] };
    expect(audit.rows.map((r) => r.event)).toEqual(['message.redriven']);
    expect(audit.rows[0]).toMatchObject({
      agent_id: inbox.id,
      detail: { last_error: 'Max attempts exceeded: boom' },
    });
    const metrics = await relay.metrics();
    expect(metrics.sum('admp_messages_redriven_total', { agent_id: inbox.id })).toBe(1);
  });

  it('refuses a body that is neither message_ids nor all: true with 422, and bad JSON with 400', async () => {
    const inbox = await freshInbox();
    for (const body of [
      {},
      { all: false },
      { message_ids: [] },
      { message_ids: ['nope'] },
      { all: true, x: 1 },
    ]) {
      expectError(await redrive(inbox, body), 422, 'validation_failed');
    }
    const r = await relay.call('POST', `/v1/agents/${inbox.id}/dead-letters/redrive`, {
      token: inbox.apiKey,
      raw: '{',
      headers: { 'content-type': 'application/json' },
    });
    expectError(r, 400, 'invalid_json');
  });
});

describe('purge', () => {
  it('deletes one dead letter (204), then 404; a live message or a non-UUID id is 404', async () => {
    const inbox = await freshInbox();
    const id = await kill(inbox);
    const live = (await relay.send(sender, inbox.id)).body.message_id;
    const purge = (mid: string) =>
      relay.call('DELETE', `/v1/agents/${inbox.id}/dead-letters/${mid}`, { token: inbox.apiKey });
    const r = await purge(id);
    expect(r.status).toBe(204);
    expectError(await purge(id), 404, 'not_found');
    expectError(await purge(live), 404, 'not_found');
    expectError(await purge('not-a-uuid'), 404, 'not_found');
    expectError(await relay.call('GET', `/v1/messages/${id}/status`), 404, 'not_found');
    expect((await relay.call('GET', `/v1/messages/${live}/status`)).body.status).toBe('delivered');
  });
});

describe('access', () => {
  it('another agent can neither list, redrive nor purge a foreign inbox’s dead letters; the admin can', async () => {
    const inbox = await freshInbox();
    const stranger = await freshInbox();
    const id = await kill(inbox);
    const as = (agent: Agent) => ({ token: agent.apiKey });
    const paths: [string, string, unknown?][] = [
      ['GET', `/v1/agents/${inbox.id}/dead-letters`],
      ['POST', `/v1/agents/${inbox.id}/dead-letters/redrive`, { all: true }],
      ['DELETE', `/v1/agents/${inbox.id}/dead-letters/${id}`],
    ];
    for (const [method, path, body] of paths) {
      const r = await relay.call(method, path, { ...as(stranger), ...(body ? { body } : {}) });
      expectError(r, 403, 'forbidden');
    }
    // The stranger's own listing never shows it either.
    expect((await list(stranger)).body.messages).toEqual([]);
    expect((await relay.call('GET', `/v1/agents/${inbox.id}/dead-letters`)).body.messages).toHaveLength(1);
    expect((await relay.call('GET', `/v1/messages/${id}/status`)).body.status).toBe('dead');
  });

  it('needs credentials (401)', async () => {
    const inbox = await freshInbox();
    expectError(
      await relay.call('GET', `/v1/agents/${inbox.id}/dead-letters`, { token: null }),
      401,
      'unauthorized',
    );
  });
});
