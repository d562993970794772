import { type SQL, sql } from 'drizzle-orm';
import type { Db } from './database.js';

/**
 * A hot statement of the relay: SQL text with `$n` parameters and a stable name. Drivers that can
 * prepare (node-postgres) prepare it once per connection under its name, so PostgreSQL plans it
 * once instead of on every call; planning a lease costs several times what running it does.
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
  /**
   * False for statements whose loss in a crash only causes a redelivery (a lease, an ACK): they may
   * commit without waiting for the WAL flush. A SEND is durable before its 201.
   */
  readonly durable: boolean;
}

/** Runs one statement with its parameters and returns its rows. */
export type Run = <T>(statement: Statement, values: readonly unknown[]) => Promise<T[]>;

/**
 * The text starts with its name as a comment, so pg_stat_activity and pg_stat_statements (whose
 * query text is cut at 1 KiB, before a long statement's verb) say which relay statement runs.
 */
export const statement = (name: string, text: string, options: { durable: boolean }): Statement => ({
  name,
  text: `/* ${name} */ ${text.replace(/\s+/g, ' ').trim()}`,
  durable: options.durable,
});

/**
 * A `Run` for any Drizzle database (PGlite, Neon): the text is split at its `$n` placeholders and
 * handed to Drizzle as bound parameters. No preparing, but the same statements on every driver.
 */
export function runOnDrizzle(db: Db): Run {
  const parsed = new Map<string, (values: readonly unknown[]) => SQL>();
  return async <T>(s: Statement, values: readonly unknown[]) => {
    let build = parsed.get(s.name);
    if (!build) {
      const parts = s.text.split(/\$(\d+)/);
      build = (vals) => {
        const chunks: SQL[] = [];
        parts.forEach((part, i) => {
          // sql.param binds an array as one array parameter; a bare array would become a list.
          chunks.push(i % 2 === 0 ? sql.raw(part) : sql`${sql.param(vals[Number(part) - 1])}`);
        });
        return sql.join(chunks);
      };
      parsed.set(s.name, build);
    }
    const result = (await db.execute(build(values))) as unknown as { rows: T[] };
    return result.rows;
  };
}
