import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createApp } from '../app.js';
import { ConfigError, parseConfig } from '../config.js';
import { DataDirLockedError } from '../db/node-data-dir-lock.js';
import { openNodeDatabase } from '../db/node-database.js';
import { createDeps, type Deps } from '../deps.js';
import { sweepOnce } from '../inbox/sweeper.js';
import { errorText } from '../observe/error-text.js';
import { createNodeMetrics } from '../observe/node-metrics.js';
import { createPinoLogger } from '../observe/pino-logger.js';
import { type Policy, PolicyError, parsePolicy } from '../policy/load.js';
import { PolicyRefresher, publishPolicy, readStoredPolicy } from '../policy/store.js';
import { NodeGateway } from '../realtime/node-gateway.js';
import { PgHub } from '../realtime/node-hub.js';
import { nodeDocsAssets } from '../routes/node-docs-assets.js';
import { VERSION } from '../version.js';
import { stopWhenParentExits } from './parent-watch.js';
import { closeConnectionsOnceStopped } from './stopping.js';

// How often buffered audit rows are written; a crash loses at most this much of the audit log.
const AUDIT_FLUSH_MS = 1000;

function readPolicyFile(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`POLICY_FILE: cannot read ${file}: ${(error as Error).message}`]);
  }
  return parsePolicy(text);
}

async function main() {
  const config = parseConfig(process.env);
  const logger = createPinoLogger(config.logLevel);
  const fromFile = config.policyFile ? readPolicyFile(config.policyFile) : undefined;
  const database = await openNodeDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });
  await database.migrate();

  // The file, when there is one, is published for every process sharing the database; without
  // one this process enforces whatever another published (or the defaults).
  if (fromFile) await publishPolicy(database.db, fromFile);
  const policy = fromFile ?? (await readStoredPolicy(database.db));
  const metrics = config.metricsEnabled
    ? createNodeMetrics({ maxSeries: config.metricsMaxSeries })
    : undefined;
  // PGlite is one process, so waking waiters in this process reaches all of them; PostgreSQL
  // may have several relays, which hear of each other's messages through LISTEN/NOTIFY.
  const hub = config.databaseUrl
    ? await PgHub.start({ url: config.databaseUrl, logger, debounceMs: config.notifyDebounceMs })
    : undefined;
  let gateway: NodeGateway | undefined;
  const stop = new AbortController();
  // Every waiting long poll and event stream listens to it: no leak, however many there are.
  setMaxListeners(0, stop.signal);
  const deps = createDeps({
    config,
    db: database.db,
    run: database.run,
    logger,
    policy,
    metrics,
    hub,
    stopping: stop.signal,
    sockets: (d) => {
      gateway = new NodeGateway(d);
      return gateway;
    },
  });
  const policySync = new PolicyRefresher(deps, config.policyRefreshSec * 1000);
  const policyRefresh = setInterval(
    () => void policySync.refresh(Date.now()),
    config.policyRefreshSec * 1000,
  );
  await deps.jwt?.ready.catch((error: Error) => {
    throw new ConfigError([error.message]);
  });
  const app = createApp(deps, { docsAssets: nodeDocsAssets() });
  const auditFlush = setInterval(() => void deps.audit.flush(), AUDIT_FLUSH_MS);

  const sweeps = (['leases', 'ttl'] as const).map((which) => {
    const seconds = which === 'leases' ? config.leaseReclaimIntervalSec : config.ttlCheckIntervalSec;
    let running = false;
    return setInterval(async () => {
      if (running) return; // a slow pass is never overlapped by the next
      running = true;
      try {
        await sweepOnce(deps, which);
        // After the purges, so that the space of what they deleted can be reused.
        if (which === 'ttl' && database.maintain) {
          const started = performance.now();
          await database.maintain();
          logger.debug(
            { ms: Math.round(performance.now() - started) },
            'vacuumed and checkpointed the embedded database',
          );
        }
      } catch (error) {
        logger.error({ err: errorText(error), sweep: which }, 'sweep failed');
      } finally {
        running = false;
      }
    }, seconds * 1000);
  });

  const websocket = { server: new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 }) };
  const fetch = closeConnectionsOnceStopped(stop.signal, app.fetch);
  const server = serve({ fetch, port: config.port, websocket }, (info) => {
    logger.info(
      {
        port: info.port,
        database: database.kind,
        data_dir: database.kind === 'pglite' ? config.dataDir : undefined,
      },
      `ADMP relay ${VERSION} listening on http://localhost:${info.port}`,
    );
  }) as HttpServer;
  // A client that reuses a keep-alive connection just as the server times it out loses that request
  // (ECONNRESET), and a busy event loop (PGlite computes on it) widens the moment. Node closes idle
  // connections after 5 s; clients and proxies commonly keep theirs for up to 60 s, so outlast that.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down: finishing in-flight requests');
    for (const timer of sweeps) clearInterval(timer);
    clearInterval(auditFlush);
    clearInterval(policyRefresh);
    const force = setTimeout(() => {
      logger.warn({}, 'shutdown timed out; exiting with requests still open');
      process.exit(1);
    }, config.shutdownTimeoutSec * 1000);
    force.unref();
    // Open sockets would hold server.close() open forever; clients reconnect elsewhere. Waiting
    // PULLs answer 204 now rather than at the end of their wait.
    gateway?.closeAll();
    stop.abort();
    server.close(async () => {
      await deps.hub.close();
      await deps.audit.flush();
      await database.close();
      logger.info({}, 'stopped');
      process.exit(0);
    });
  };
  process.on('SIGHUP', () => void reloadPolicy(deps, config.policyFile));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  stopWhenParentExits(process.env.npm_lifecycle_event !== undefined, () => shutdown('parent exited'));
}

/** FR-32: a broken file keeps the rules in force and says why; a good one is published and used. */
async function reloadPolicy(deps: Deps, file: string | undefined): Promise<void> {
  if (!file) {
    deps.logger.warn({}, 'SIGHUP: no POLICY_FILE to reload');
    return;
  }
  let policy: Policy;
  try {
    policy = readPolicyFile(file);
  } catch (error) {
    const problems =
      error instanceof PolicyError || error instanceof ConfigError ? error.problems : [String(error)];
    deps.logger.error({ policy_file: file, problems }, 'policy reload failed; keeping the rules in force');
    return;
  }
  try {
    await publishPolicy(deps.db, policy);
  } catch (error) {
    deps.logger.error(
      { policy_file: file, err: errorText(error) },
      'policy reload failed: cannot publish it',
    );
    return;
  }
  deps.policy = policy;
  deps.logger.info({ policy_file: file, rules: policy.written.length }, 'policy reloaded');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof PolicyError || error instanceof DataDirLockedError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
