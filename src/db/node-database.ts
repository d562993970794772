import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { Database, Db } from './database.js';
import { type DataDirLock, lockDataDir } from './node-data-dir-lock.js';
import { openPglite } from './node-pglite.js';
import * as schema from './schema.js';
import type { Run, Statement } from './statements.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));

// Any constant works; it only has to be the same in every relay process.
const MIGRATION_LOCK = 0x61646d70;

export interface NodeDatabase extends Database {
  /** Runs the relay's hot statements: prepared by name on PostgreSQL, plainly on PGlite. */
  run: Run;
  /** Applies pending migrations; relays starting together on one server take turns. */
  migrate(): Promise<void>;
  /**
   * What PostgreSQL's background processes do, where there are none (PGlite): VACUUM, so the space
   * of deleted and updated rows is reused, now and then ANALYZE, and a CHECKPOINT, so the WAL is
   * recycled. Absent on PostgreSQL, whose autovacuum and checkpointer do it themselves.
   */
  maintain?(): Promise<void>;
}

export interface NodeDatabaseOptions {
  /** A postgres:// URL; without one the relay runs on embedded PGlite. */
  url?: string | undefined;
  /** PGlite's data directory, held by one process at a time; `memory://` keeps everything in memory. */
  dataDir?: string;
  poolSize?: number;
}

export async function openNodeDatabase(options: NodeDatabaseOptions): Promise<NodeDatabase> {
  const migrationsFolder = MIGRATIONS_DIR;
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
    // Leases and ACKs commit without waiting for the WAL flush: lost in a crash, they only cause a
    // redelivery, which at-least-once allows. Their own pool, so no statement has to switch modes.
    const relaxed = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: '-c synchronous_commit=off',
    });
    // An idle client that loses its server emits 'error'; unheard, that would kill the process.
    pool.on('error', () => {});
    relaxed.on('error', () => {});
    const run: Run = async <T>(s: Statement, values: readonly unknown[]) => {
      const target = s.durable ? pool : relaxed;
      const result = await target.query({ name: s.name, text: s.text, values: values as unknown[] });
      return result.rows as T[];
    };
    return {
      kind: 'postgres',
      db: drizzlePg(pool, { schema }) as unknown as Db,
      run,
      close: async () => {
        await Promise.all([pool.end(), relaxed.end()]);
      },
      async migrate() {
        // The lock is per session, so lock, migrate and unlock on one dedicated connection.
        const client = await pool.connect();
        try {
          await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
          await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
          client.release();
        }
      },
    };
  }
  const dataDir = options.dataDir ?? 'memory://';
  let lock: DataDirLock | undefined;
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    // Before PGlite touches the files: a second process must not even open them.
    lock = await lockDataDir(dataDir);
  }
  let client: PGlite;
  try {
    client = await openPglite(dataDir);
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = drizzlePglite(client, { schema });
  let passes = 0;
  return {
    kind: 'pglite',
    db: db as unknown as Db,
    run: async <T>(s: Statement, values: readonly unknown[]) => {
      // PGlite computes in this thread and answers through promises alone, so a chain of
      // statements (grouped SENDs, a socket's pushes) could run without ever letting sockets be
      // read. One turn of the event loop before each statement keeps I/O flowing between them.
      await new Promise((resolve) => setImmediate(resolve));
      return (await client.query<T>(s.text, values as unknown[])).rows;
    },
    async close() {
      await client.close();
      lock?.release();
    },
    migrate: () => migratePglite(db, { migrationsFolder }),
    // PGlite is PostgreSQL in single-user mode: neither autovacuum nor the checkpointer ever runs.
    // Without this, the rows that acks, leases and purges leave behind are never reclaimed and no
    // WAL segment is ever recycled, so the data directory grows for as long as the relay runs (and
    // recovery after a crash replays all of it). It runs on the relay's own thread, so every request
    // waits for it: on a busy relay VACUUM takes ~0.1 s, CHECKPOINT ~0.05 s (16 MB of shared buffers
    // at most) and ANALYZE, which samples every table, ~0.5 s, so statistics are refreshed on every
    // tenth pass.
    async maintain() {
      await client.exec(passes++ % 10 === 0 ? 'vacuum (analyze)' : 'vacuum');
      await client.exec('checkpoint');
    },
  };
}
