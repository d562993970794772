import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { expect, inject, it } from 'vitest';
import { initDbSql } from '../scripts/init-sql.js';
import { openNodeDatabase } from '../src/db/node-database.js';
import { withDatabase } from './support/global-postgres.js';
import { startTestRelay } from './support/relay.js';
import { ENGINE } from './support/test-database.js';

it('deploy/init-db.sql builds the schema the migrations build, and the relay then migrates nothing', async () => {
  if (ENGINE === 'pglite') {
    const client = await PGlite.create('memory://');
    await client.exec(initDbSql());
    const { rows } = await client.query<{ n: number }>(
      'select count(*)::int as n from drizzle.__drizzle_migrations',
    );
    expect(rows[0]?.n).toBeGreaterThan(0);
    await client.close();
    return;
  }
  const server = inject('postgresUrl');
  const name = `init_${crypto.randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(server, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(initDbSql());
  await client.end();
  const database = await openNodeDatabase({ url, poolSize: 2 });
  await database.migrate(); // must find everything applied; a re-run would fail on CREATE TYPE
  const tables = (await database.db.execute(
    `select table_name from information_schema.tables where table_schema = 'public' order by 1`,
  )) as unknown as { rows: { table_name: string }[] };
  expect(tables.rows.map((r) => r.table_name)).toEqual([
    'agent',
    'agent_key',
    'api_key',
    'audit_log',
    'message',
    'policy',
    'policy_rate',
    'policy_tier',
    'rate_window',
    'request_signature',
    'session',
  ]);
  await database.close();
});

it('mirrors the message states as the message_status enum', async () => {
  const relay = await startTestRelay();
  try {
    const result = (await relay.db.execute(
      `select unnest(enum_range(null::message_status))::text as s`,
    )) as unknown as { rows: { s: string }[] };
    const { MESSAGE_STATES, STATUS_ENUM } = await import('../src/message-states.js');
    expect(result.rows.map((r) => r.s)).toEqual([...STATUS_ENUM]);
    expect(STATUS_ENUM).toEqual(expect.arrayContaining([...MESSAGE_STATES]));
  } finally {
    await relay.close();
  }
});
