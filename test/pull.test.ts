import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../src/db/database.js';
import { sweepOnce } from '../src/inbox/sweeper.js';
import { expectError } from './support/expect-error.js';
import { type Agent, sleep, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let sender: Agent;
let n = 0;

beforeAll(async () => {
  relay = await startTestRelay();
  sender = await relay.registerAgent('sender');
});
afterAll(() => relay.close());

/** Each test gets an inbox of its own, so counts and order never depend on other tests. */
const freshInbox = () => relay.registerAgent(`pull-inbox-${++n}`);

describe('PULL', () => {
  it('answers 204 with no body for an empty inbox', async () => {
    const inbox = await freshInbox();
    const r = await relay.pull(inbox);
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
  });

  it('leases for visibility_timeout seconds and returns the lease', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const before = Date.now();
    const r = await relay.pull(inbox, '?visibility_timeout=120');
    const after = Date.now();
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('leased');
    expect(r.body.attempts).toBe(0);
    expect(r.body.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    // 120 s from the moment of the PULL, however long it took (1 s of slack for the database's clock).
    const leaseUntil = Date.parse(r.body.lease_until);
    expect(leaseUntil).toBeGreaterThanOrEqual(before + 119_000);
    expect(leaseUntil).toBeLessThanOrEqual(after + 121_000);
    expect(await relay.stats(inbox)).toMatchObject({ ready: 0, leased: 1, dead: 0 });
  });

  it.each(['0', '3601', 'abc', '1.5', '-1'])('refuses visibility_timeout=%s with 422', async (v) => {
    const inbox = await freshInbox();
    expectError(await relay.pull(inbox, `?visibility_timeout=${v}`), 422, 'validation_failed');
  });

  it('hands a message to exactly one of ten concurrent pullers, and each message is acked once', async () => {
    const inbox = await freshInbox();
    const sent = new Set<string>();
    for (let i = 0; i < 30; i++)
      sent.add((await relay.send(sender, inbox.id, { body: { i } })).body.message_id);
    const got: string[] = [];
    let acks = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (;;) {
          const r = await relay.pull(inbox);
          if (r.status === 204) return;
          got.push(r.body.id);
          const a = await relay.ack(inbox, r.body.id, r.body.lease_id);
          expect(a.status).toBe(200);
          acks++;
        }
      }),
    );
    expect(got.length).toBe(30);
    expect(new Set(got)).toEqual(sent);
    expect(acks).toBe(30);
    const [row] = await rows<{ acked: string }>(
      relay.db,
      sql`select count(*) as acked from message where to_agent_id = ${inbox.id} and status = 'acked'`,
    );
    expect(Number(row?.acked)).toBe(30);
  });

  it('delivers 50 sequential sends from one sender in send order', async () => {
    const inbox = await freshInbox();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++)
      ids.push((await relay.send(sender, inbox.id, { body: { i } })).body.message_id);
    const order: string[] = [];
    for (;;) {
      const r = await relay.pull(inbox);
      if (r.status === 204) break;
      order.push(r.body.id);
      await relay.ack(inbox, r.body.id, r.body.lease_id);
    }
    expect(order).toEqual(ids);
  });

  it('does not deliver a message whose TTL has run out', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id, { ttl_sec: 1 });
    await sleep(1100);
    expect((await relay.pull(inbox)).status).toBe(204);
  });

  it('lets only the inbox owner or the admin pull', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.call('POST', `/v1/agents/${inbox.id}/inbox/pull`, { token: sender.apiKey });
    expectError(r, 403, 'forbidden');
    expect((await relay.call('POST', `/v1/agents/${inbox.id}/inbox/pull`)).status).toBe(200);
  });
});

describe('PULL on a table its statistics take for smaller than it is', () => {
  // A relay of its own: the statistics must be of this table alone. Analyzed with one message in it,
  // the planner may put the lease's LIMIT subquery on the inner side of a nested loop and run it
  // once per row; each run skips the rows the statement already leased (SKIP LOCKED) and takes the
  // next, so one PULL leased every ready message and returned one (the others came back a lease
  // later, an attempt spent).
  let own: TestRelay;
  beforeAll(async () => {
    own = await startTestRelay();
  });
  afterAll(() => own?.close());

  it('leases exactly the messages it returns', async () => {
    const [from, inbox] = [await own.registerAgent('stats.sender'), await own.registerAgent('stats.inbox')];
    await own.send(from, inbox.id);
    await own.db.execute(sql`analyze message`);
    await own.send(from, inbox.id);
    await own.send(from, inbox.id);
    expect((await own.pull(inbox)).status).toBe(200);
    expect(await own.stats(inbox)).toMatchObject({ ready: 2, leased: 1 });
    const batch = await own.call('POST', `/v1/agents/${inbox.id}/inbox/pull-batch?max_messages=1`, {
      token: inbox.apiKey,
    });
    expect(batch.body.messages).toHaveLength(1);
    expect(await own.stats(inbox)).toMatchObject({ ready: 1, leased: 2 });
  });
});

describe('lease expiry', () => {
  it('brings an expired lease back with attempts + 1, and after max_attempts the message is dead', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    for (const attempts of [0, 1, 2]) {
      const r = await relay.pull(inbox, '?visibility_timeout=1');
      expect(r.status).toBe(200);
      expect(r.body.attempts).toBe(attempts);
      await sleep(1100);
    }
    // The third lease has run out on the last attempt: nothing more is delivered.
    expect((await relay.pull(inbox)).status).toBe(204);
    await sweepOnce(relay.deps, 'leases');
    const status = await relay.call('GET', `/v1/messages/${message_id}/status`);
    expect(status.body).toMatchObject({ status: 'dead', attempts: 3, last_error: 'Max attempts exceeded' });
    expect(await relay.stats(inbox)).toMatchObject({ ready: 0, leased: 0, dead: 1 });
  });

  it('is swept back to ready by the reclaim sweep with attempts + 1', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id)).body;
    await relay.pull(inbox, '?visibility_timeout=1');
    await sleep(1100);
    await sweepOnce(relay.deps, 'leases');
    const status = await relay.call('GET', `/v1/messages/${message_id}/status`);
    expect(status.body).toMatchObject({ status: 'delivered', attempts: 1, last_error: 'Lease expired' });
  });

  it('refuses a stale holder’s ACK with 404 once the message is leased again', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const first = await relay.pull(inbox, '?visibility_timeout=1');
    await sleep(1100);
    const second = await relay.pull(inbox, '?visibility_timeout=30');
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.lease_id).not.toBe(first.body.lease_id);
    expectError(await relay.ack(inbox, first.body.id, first.body.lease_id), 404, 'not_found');
    expect((await relay.ack(inbox, second.body.id, second.body.lease_id)).status).toBe(200);
  });

  it('answers ACK of an expired lease with 404', async () => {
    const inbox = await freshInbox();
    await relay.send(sender, inbox.id);
    const r = await relay.pull(inbox, '?visibility_timeout=1');
    await sleep(1100);
    expectError(await relay.ack(inbox, r.body.id), 404, 'not_found');
  });

  it('RECLAIM returns this inbox’s expired leases and counts them', async () => {
    const inbox = await freshInbox();
    const other = await freshInbox();
    await relay.send(sender, inbox.id);
    await relay.send(sender, inbox.id);
    await relay.send(sender, other.id);
    await relay.pull(inbox, '?visibility_timeout=1');
    await relay.pull(inbox, '?visibility_timeout=1');
    await relay.pull(other, '?visibility_timeout=1');
    await sleep(1100);
    const r = await relay.call('POST', `/v1/agents/${inbox.id}/inbox/reclaim`, { token: inbox.apiKey });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ reclaimed: 2 });
    expect(
      (await relay.call('POST', `/v1/agents/${inbox.id}/inbox/reclaim`, { token: inbox.apiKey })).body,
    ).toEqual({
      reclaimed: 0,
    });
    expectError(
      await relay.call('POST', `/v1/agents/${other.id}/inbox/reclaim`, { token: inbox.apiKey }),
      403,
      'forbidden',
    );
  });
});
