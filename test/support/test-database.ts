import { inject } from 'vitest';
import type { NodeDatabase } from '../../src/db/node-database.js';
import { openNodeDatabase } from '../../src/db/node-database.js';
import { TEMPLATE_DB, withDatabase } from './global-postgres.js';

/** Which engine this test project runs on: set per project in vitest.config.ts. */
export const ENGINE = (process.env.ADMP_TEST_DB ?? 'pglite') as 'pglite' | 'postgres';

/**
 * A fresh, migrated database for one test file: a clone of the migrated template on
 * PostgreSQL, a new in-memory PGlite otherwise. Returns its URL too (undefined for PGlite).
 */
export async function openTestDatabase(): Promise<{ database: NodeDatabase; url: string | undefined }> {
  if (ENGINE === 'pglite') {
    const database = await openNodeDatabase({ dataDir: 'memory://' });
    await database.migrate();
    return { database, url: undefined };
  }
  const server = inject('postgresUrl');
  const name = `t_${crypto.randomUUID().replaceAll('-', '')}`;
  const admin = await openNodeDatabase({ url: server, poolSize: 1 });
  try {
    await admin.db.execute(`create database ${name} template ${TEMPLATE_DB}`);
  } finally {
    await admin.close();
  }
  const url = withDatabase(server, name);
  return { database: await openNodeDatabase({ url, poolSize: 20 }), url };
}
