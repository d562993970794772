import { neon, neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle as drizzleHttp } from 'drizzle-orm/neon-http';
import { drizzle as drizzleWs } from 'drizzle-orm/neon-serverless';
import type { Config } from '../config.js';
import type { Database, Db } from './database.js';
import * as schema from './schema.js';

export type NeonOptions = Config['neon'];

/**
 * PostgreSQL for Cloudflare Workers through @neondatabase/serverless.
 *
 * Every relay operation is one statement, and Neon's SQL-over-HTTP endpoint answers one statement
 * in one round trip with no connection to set up, so statements go over HTTP. A transaction needs
 * a session, so `db.transaction()` alone goes over a WebSocket. A plain PostgreSQL server behind a
 * WebSocket proxy has no HTTP endpoint unless one is configured, so there everything goes over
 * the WebSocket.
 */
export function openNeonDatabase(url: string, options: NeonOptions): Database {
  configureNeon(options);
  const pool = new Pool({
    connectionString: url,
    // Workers forbid using a socket opened by one request from another, so a connection must
    // never outlive its checkout: each one closes when released. The high ceiling keeps callers
    // from queueing for a connection that another request's release would then open.
    maxUses: 1,
    max: 1_000,
  });
  // A connection that fails while checked out rejects its query; one that fails after release
  // must not be an unhandled error.
  pool.on('error', () => {});
  const sessions = drizzleWs(pool, { schema }) as unknown as Db;
  const useHttp = options.httpEndpoint !== undefined || options.wsProxy === undefined;
  const db = useHttp
    ? withTransactionsOn(drizzleHttp(neon(url), { schema }) as unknown as Db, sessions)
    : sessions;
  return { kind: 'neon', db, close: () => pool.end() };
}

/**
 * neonConfig is global to the isolate; a deployed Worker has one configuration, so setting it when
 * the database opens is enough. `undefined` restores the driver's default, which suits Neon.
 */
function configureNeon(options: NeonOptions): void {
  neonConfig.fetchEndpoint = options.httpEndpoint as string;
  neonConfig.wsProxy = options.wsProxy as string;
  // Pipelining sends the password before the server asks for it, which only works with
  // cleartext password auth as Neon's proxy does it; a plain server may want SCRAM or nothing.
  neonConfig.pipelineConnect = options.wsProxy ? false : 'password';
  neonConfig.useSecureWebSocket = options.wsSecure;
}

/** A Db that runs statements on `statements` and hands `transaction()` to `sessions`. */
function withTransactionsOn(statements: Db, sessions: Db): Db {
  const transaction = sessions.transaction.bind(sessions);
  return new Proxy(statements, {
    get: (target, property, receiver) =>
      property === 'transaction' ? transaction : Reflect.get(target, property, receiver),
  });
}
