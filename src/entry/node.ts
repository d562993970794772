import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import { createApp } from '../app.js';
import { KeyCache } from '../auth/api-key.js';
import { SecretBox } from '../auth/crypto.js';
import { ConfigError, parseConfig } from '../config.js';
import { openNodeDatabase } from '../db/node-database.js';
import { type Deps, systemClock } from '../deps.js';
import { sweepOnce } from '../inbox/sweeper.js';
import { createPinoLogger } from '../observe/pino-logger.js';
import { VERSION } from '../version.js';

async function main() {
  const config = parseConfig(process.env);
  const logger = createPinoLogger(config.logLevel);
  const database = await openNodeDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });
  await database.migrate();

  const deps: Deps = {
    config,
    db: database.db,
    clock: systemClock,
    logger,
    keyCache: new KeyCache(),
    secrets: new SecretBox(config.secretKey),
    version: VERSION,
    ping: async () => {
      await database.db.execute(sql`select 1`);
    },
  };
  const app = createApp(deps);

  const sweeps = (['leases', 'ttl'] as const).map((which) => {
    const seconds = which === 'leases' ? config.leaseReclaimIntervalSec : config.ttlCheckIntervalSec;
    let running = false;
    return setInterval(async () => {
      if (running) return; // a slow pass is never overlapped by the next
      running = true;
      try {
        await sweepOnce(deps, which);
      } catch (error) {
        logger.error({ err: String(error), sweep: which }, 'sweep failed');
      } finally {
        running = false;
      }
    }, seconds * 1000);
  });

  const server = serve({ fetch: app.fetch, port: config.port }, (info) => {
    logger.info(
      {
        port: info.port,
        database: database.kind,
        data_dir: database.kind === 'pglite' ? config.dataDir : undefined,
      },
      `ADMP relay ${VERSION} listening on http://localhost:${info.port}`,
    );
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    for (const timer of sweeps) clearInterval(timer);
    const force = setTimeout(() => {
      logger.warn({}, 'shutdown timed out; exiting with requests still open');
      process.exit(1);
    }, config.shutdownTimeoutSec * 1000);
    force.unref();
    server.close(async () => {
      await database.close();
      logger.info({}, 'stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
