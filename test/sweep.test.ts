import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstRow } from '../src/db/database.js';
import { expireTtl, purgeFinished, reclaimExpired } from '../src/inbox/sweep.js';
import { sweepOnce } from '../src/inbox/sweeper.js';
import { type Agent, sleep, startTestRelay, type TestRelay } from './support/relay.js';
import { ENGINE } from './support/test-database.js';

let relay: TestRelay;
let sender: Agent;
let n = 0;
beforeAll(async () => {
  relay = await startTestRelay();
  sender = await relay.registerAgent('sweep-sender');
});
afterAll(() => relay.close());

const freshInbox = () => relay.registerAgent(`sweep-inbox-${++n}`);
const statusOf = async (id: string) => (await relay.call('GET', `/v1/messages/${id}/status`)).body;

describe('TTL sweep', () => {
  it('makes a message dead with last_error "TTL expired" once timestamp + ttl_sec has passed', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id, { ttl_sec: 1 })).body;
    const keep = (await relay.send(sender, inbox.id, { ttl_sec: 60 })).body.message_id;
    await sleep(1100);
    await sweepOnce(relay.deps, 'ttl');
    expect(await statusOf(message_id)).toMatchObject({ status: 'dead', last_error: 'TTL expired' });
    expect((await statusOf(keep)).status).toBe('delivered');
  });

  it('also expires a message that is leased when its TTL runs out', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id, { ttl_sec: 1 })).body;
    await relay.pull(inbox, '?visibility_timeout=60');
    await sleep(1100);
    await sweepOnce(relay.deps, 'ttl');
    expect(await statusOf(message_id)).toMatchObject({ status: 'dead', lease_until: null });
  });
});

describe('retention', () => {
  it('deletes acked and dead messages older than the retention period and nothing else', async () => {
    const inbox = await freshInbox();
    const acked = (await relay.send(sender, inbox.id)).body.message_id;
    const waiting = (await relay.send(sender, inbox.id)).body.message_id;
    const lease = await relay.pull(inbox);
    await relay.ack(inbox, acked, lease.body.lease_id);
    await relay.db.execute(
      sql`update message set finished_at = now() - interval '2 hours' where id = ${acked}`,
    );
    expect(await purgeFinished(relay.db, 0)).toEqual([]); // 0 keeps history forever
    const purged = await purgeFinished(relay.db, 3600);
    expect(purged.map((r) => r.id)).toContain(acked);
    expect((await relay.call('GET', `/v1/messages/${acked}/status`)).status).toBe(404);
    expect((await statusOf(waiting)).status).toBe('delivered');
  });
});

describe('sweep leadership', () => {
  it.runIf(ENGINE === 'postgres')(
    'lets one of several concurrent sweepers take each pass, and together they reclaim every lease once',
    async () => {
      const inbox = await freshInbox();
      for (let i = 0; i < 20; i++) await relay.send(sender, inbox.id);
      for (let i = 0; i < 20; i++) await relay.pull(inbox, '?visibility_timeout=1');
      await sleep(1100);
      const passes = await Promise.all(Array.from({ length: 4 }, () => reclaimExpired(relay.db)));
      const reclaimed = passes.flat().map((m) => m.id);
      expect(reclaimed.length).toBe(20);
      expect(new Set(reclaimed).size).toBe(20);
      const row = await firstRow<{ n: string }>(
        relay.db,
        sql`select count(*) as n from message where to_agent_id = ${inbox.id} and status = 'delivered' and attempts = 1`,
      );
      expect(Number(row?.n)).toBe(20);
    },
  );

  it('skips a pass while another session holds the sweep lock', async () => {
    const inbox = await freshInbox();
    const { message_id } = (await relay.send(sender, inbox.id, { ttl_sec: 1 })).body;
    await sleep(1100);
    if (ENGINE === 'postgres') {
      await relay.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${0x61646d71})`);
        // A separate connection sees the lock held and does nothing.
        expect(await expireTtl(relay.db)).toEqual([]);
      });
    }
    expect((await expireTtl(relay.db)).map((m) => m.id)).toContain(message_id);
  });
});
