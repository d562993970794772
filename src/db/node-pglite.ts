import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

// PGlite starts PostgreSQL with 128 MB of shared buffers and touches them all at start; the relay's
// working set (live messages, a few indexes) fits in far less. 16 MB takes an idle relay from
// ~410 MB resident to ~250 MB.
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/**
 * Opens PGlite on `dataDir` (or in memory). A new directory is initialised (initdb) in a short-lived
 * child process first: initdb's memory is never given back to the system, and doing it in the relay
 * itself left a fresh relay holding ~880 MB for the rest of its life.
 */
export async function openPglite(dataDir: string): Promise<PGlite> {
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    if (!existsSync(join(dataDir, 'PG_VERSION'))) initializeInChild(dataDir);
  }
  return PGlite.create(dataDir, { startParams: START_PARAMS });
}

function initializeInChild(dataDir: string): void {
  const pglite = import.meta.resolve('@electric-sql/pglite');
  const script =
    'const { PGlite } = await import(process.argv[1]); await (await PGlite.create(process.argv[2])).close();';
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, pglite, dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (child.status !== 0) {
    throw new Error(
      `could not initialise the embedded database in ${dataDir}: ${child.stderr || child.error}`,
    );
  }
}
