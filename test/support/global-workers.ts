import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openNodeDatabase } from '../../src/db/node-database.js';
import startPostgres, { TEMPLATE_DB, withDatabase } from './global-postgres.js';
import { buildWorkerBundle, readWranglerSettings } from './worker-bundle.js';
import './workerd-context.js';
import { startNeonProxy } from './ws-proxy.js';

const WORKERS_DB = 'admp_workers';

/**
 * Everything the workerd suite needs from Node: the PostgreSQL server and a migrated database
 * (Workers do not migrate), the Neon-compatible proxy in front of it, and the deploy bundle,
 * built as `wrangler deploy` would build it so the suite can run that exact file too.
 */
export default async function setup(project: TestProject) {
  const stopPostgres = await startPostgres(project);
  const server = project.getProvidedContext().postgresUrl;
  const admin = await openNodeDatabase({ url: server, poolSize: 1 });
  await admin.db.execute(`drop database if exists ${WORKERS_DB}`);
  await admin.db.execute(`create database ${WORKERS_DB} template ${TEMPLATE_DB}`);
  await admin.close();

  const proxy = await startNeonProxy(server);
  const outdir = mkdtempSync(join(tmpdir(), 'admp-worker-'));
  const teardown = async () => {
    await proxy.close();
    rmSync(outdir, { recursive: true, force: true });
    await stopPostgres();
  };
  try {
    project.provide('workerBundle', buildWorkerBundle(outdir));
  } catch (error) {
    await teardown();
    throw error;
  }
  project.provide('workersDatabaseUrl', withDatabase(server, WORKERS_DB));
  project.provide('neonWsProxy', proxy.wsProxy);
  project.provide('neonHttpEndpoint', proxy.httpEndpoint);
  project.provide('wrangler', readWranglerSettings());
  return teardown;
}
