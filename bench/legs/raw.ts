/**
 * `raw` and `raw-batch`: the floor a queue on this PostgreSQL can reach, with node-postgres and
 * named prepared statements against a minimal queue table of the relay's shape. An ack marks the
 * row acked, as the relay does, rather than deleting it: both keep finished rows, and both leave
 * them outside the partial index that finds ready ones.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { payload, type Queue } from '../workload.js';
import { EMPTY_BACKOFF_MS, type LegContext, type OpenLeg, POOL_SIZE } from './leg.js';

export const SCHEMA = `
  create schema if not exists bench;
  create table if not exists bench.queue (
    id uuid primary key default gen_random_uuid(),
    seq bigserial not null,
    inbox text not null,
    body json not null,
    status text not null default 'ready',
    lease_id uuid,
    lease_until timestamptz,
    finished_at timestamptz,
    created_at timestamptz not null default now()
  );
  create index if not exists queue_ready_idx on bench.queue (inbox, seq) where status = 'ready';`;

export const SEND = {
  name: 'raw-send',
  text: 'insert into bench.queue (inbox, body) values ($1, $2)',
};
export const LEASE = {
  name: 'raw-lease',
  text: `update bench.queue set status = 'leased', lease_id = gen_random_uuid(),
           lease_until = now() + interval '30 seconds'
         where id = (select id from bench.queue where inbox = $1 and status = 'ready'
                     order by seq limit 1 for update skip locked)
         returning id, lease_id, body`,
};
export const ACK = {
  name: 'raw-ack',
  text: `update bench.queue set status = 'acked', finished_at = now(), lease_until = null
         where id = $1 and lease_id = $2 and status = 'leased'`,
};
// One statement per batch whatever its size: the rows travel as arrays and unnest back into rows.
const SEND_BATCH = {
  name: 'raw-send-batch',
  text: 'insert into bench.queue (inbox, body) select $1, unnest($2::json[])',
};
const LEASE_BATCH = {
  name: 'raw-lease-batch',
  // Picked in a materialized CTE, as the relay does: a subquery may be rescanned and lease past its limit.
  text: `with next as materialized (
           select id from bench.queue where inbox = $1 and status = 'ready'
           order by seq limit $2 for update skip locked)
         update bench.queue q set status = 'leased', lease_id = gen_random_uuid(),
           lease_until = now() + interval '30 seconds'
         from next
         where q.id = next.id
         returning q.id, q.lease_id, q.body`,
};
const ACK_BATCH = {
  name: 'raw-ack-batch',
  text: `update bench.queue q set status = 'acked', finished_at = now(), lease_until = null
         from unnest($1::uuid[], $2::uuid[]) as a(id, lease_id)
         where q.id = a.id and q.lease_id = a.lease_id and q.status = 'leased'`,
};

interface Row {
  id: string;
  lease_id: string;
  body: { n: number };
}
type Leased = { readonly n: number; readonly id: string; readonly leaseId: string };

const toLeased = (rows: Row[]): Leased[] =>
  rows.map((row) => ({ n: row.body.n, id: row.id, leaseId: row.lease_id }));

async function expectAcked(result: Promise<pg.QueryResult>, count: number): Promise<void> {
  const { rowCount } = await result;
  if (rowCount !== count) throw new Error(`raw ack: ${rowCount} of ${count} rows acked`);
}

function single(pool: pg.Pool): Queue<Leased> {
  return {
    async send(p, ns) {
      await pool.query({ ...SEND, values: [`inbox-${p}`, JSON.stringify(payload(ns[0] as number))] });
    },
    async lease(c) {
      const { rows } = await pool.query<Row>({ ...LEASE, values: [`inbox-${c}`] });
      if (rows.length === 0) await sleep(EMPTY_BACKOFF_MS);
      return toLeased(rows);
    },
    ack: (_c, [leased]) => expectAcked(pool.query({ ...ACK, values: [leased?.id, leased?.leaseId] }), 1),
  };
}

function batched(pool: pg.Pool, size: number): Queue<Leased> {
  return {
    async send(p, ns) {
      const bodies = ns.map((n) => JSON.stringify(payload(n)));
      await pool.query({ ...SEND_BATCH, values: [`inbox-${p}`, bodies] });
    },
    async lease(c) {
      const { rows } = await pool.query<Row>({ ...LEASE_BATCH, values: [`inbox-${c}`, size] });
      if (rows.length === 0) await sleep(EMPTY_BACKOFF_MS);
      return toLeased(rows);
    },
    ack: (_c, leased) =>
      expectAcked(
        pool.query({ ...ACK_BATCH, values: [leased.map((l) => l.id), leased.map((l) => l.leaseId)] }),
        leased.length,
      ),
  };
}

/** `batch` 1 is `raw`; anything more is `raw-batch`. */
export function rawLeg(batch: number): OpenLeg {
  return async (context: LegContext) => {
    if (!context.databaseUrl) return 'needs PostgreSQL (--db postgres)';
    const pool = new pg.Pool({ connectionString: context.databaseUrl, max: POOL_SIZE });
    pool.on('error', () => {});
    await pool.query(SCHEMA);
    return {
      queue: batch === 1 ? single(pool) : batched(pool, batch),
      clean: async () => {
        await pool.query('truncate bench.queue');
      },
      close: () => pool.end(),
    };
  };
}
