import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeDatabase, openNodeDatabase } from './node-database.js';

// The embedded database runs no autovacuum and no checkpointer, so the relay does their work (after
// each TTL sweep).
describe('the embedded database (PGlite)', () => {
  let database: NodeDatabase;
  const query = <T>(text: string) => database.run<T>({ name: 'test', text, durable: true }, []);
  const tableBytes = async () =>
    Number((await query<{ bytes: string }>("select pg_total_relation_size('churn') as bytes"))[0]?.bytes);
  // One round of what a busy inbox does to its table: rows written, then most of them deleted.
  const churn = async () => {
    for (let i = 0; i < 10; i++) {
      await query("insert into churn (body) select repeat('x', 500) from generate_series(1, 500)");
      await query('delete from churn where id <= (select max(id) - 500 from churn)');
    }
  };

  beforeAll(async () => {
    database = await openNodeDatabase({ dataDir: 'memory://' });
    await database.migrate();
    await query('create table churn (id serial primary key, body text)');
  });
  afterAll(() => database?.close());

  it('never vacuums itself: deleted rows keep their space', async () => {
    await churn();
    const before = await tableBytes();
    await churn();
    expect(await tableBytes()).toBeGreaterThan(before * 1.5);
  });

  it('maintain() makes that space reusable, so the same work no longer grows the table, and analyzes', async () => {
    await database.maintain?.();
    const settled = await tableBytes();
    for (let round = 0; round < 3; round++) {
      await churn();
      await database.maintain?.();
    }
    // Some growth is the live rows' own pages turning over; doubling would mean nothing was reused.
    expect(await tableBytes()).toBeLessThan(settled * 1.25);
    const analyzed = await query<{ relname: string }>(
      "select relname from pg_stat_user_tables where last_analyze is not null and relname in ('message', 'audit_log')",
    );
    expect(analyzed.map((r) => r.relname).sort()).toEqual(['audit_log', 'message']);
  });

  it('maintain() takes a checkpoint, so WAL before it can be recycled', async () => {
    const redo = async () =>
      (await query<{ lsn: string }>('select redo_lsn::text as lsn from pg_control_checkpoint()'))[0]?.lsn;
    const before = await redo();
    await churn();
    expect(await redo()).toBe(before);
    await database.maintain?.();
    expect(await redo()).not.toBe(before);
  });
});
