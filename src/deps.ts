import { sql } from 'drizzle-orm';
import { AgentCache } from './auth/agent-cache.js';
import { KeyCache } from './auth/api-key.js';
import { SecretBox } from './auth/crypto.js';
import { JwtVerifier } from './auth/jwt.js';
import { SigningKeyCache } from './auth/signing-keys.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { type Run, runOnDrizzle } from './db/statements.js';
import { GroupCommit } from './inbox/group-commit.js';
import { type AuditSink, BufferedAuditLog } from './observe/audit.js';
import type { Logger } from './observe/logger.js';
import { type Metrics, noMetrics } from './observe/metrics.js';
import type { Policy } from './policy/load.js';
import type { SocketGateway } from './realtime/gateway.js';
import { type Hub, LocalHub } from './realtime/hub.js';
import { VERSION } from './version.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Everything a request may touch beyond its own input; built by an entry file, never a global. */
export interface Deps {
  config: Config;
  db: Db;
  /** Runs the hot statements of inbox operations (prepared where the driver can). */
  run: Run;
  /** Coalesces concurrent operations of one kind into one statement. */
  groupCommit: GroupCommit;
  clock: Clock;
  logger: Logger;
  keyCache: KeyCache;
  /** Agents' tiers, signature settings and opened HMAC keys. */
  agents: AgentCache;
  /** Active Ed25519 keys by agent and kid. */
  signingKeys: SigningKeyCache;
  secrets: SecretBox;
  /** Undefined when no JWT key is configured. */
  jwt: JwtVerifier | undefined;
  /** Read per request (never destructured once), so a reload can replace it. */
  policy: Policy;
  audit: AuditSink;
  /** Wakes long-polls and WebSockets waiting on an inbox; across processes where the runtime can. */
  hub: Hub;
  /** Serves GET /v1/agents/{id}/ws; undefined where the runtime offers no WebSockets. */
  sockets: SocketGateway | undefined;
  /** Aborted when a graceful shutdown begins: a waiting long poll answers at once (204). */
  stopping: AbortSignal;
  metrics: Metrics;
  version: string;
  /** Answers whether the database can be reached; /health asks it. */
  ping(): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The authentication parts of `Deps`, the same for every entry. */
export function createSecurity(config: Config, db: Db) {
  const secrets = new SecretBox(config.secretKey);
  return {
    keyCache: new KeyCache(),
    agents: new AgentCache(db, secrets),
    signingKeys: new SigningKeyCache(db),
    secrets,
    jwt: config.jwt ? new JwtVerifier(config.jwt) : undefined,
  } satisfies Partial<Deps>;
}

export interface DepsParts {
  config: Config;
  db: Db;
  /** The driver's own statement runner; without one, statements go through Drizzle. */
  run?: Run;
  /** Defaults to grouping concurrent operations, two statements of a kind at a time. */
  groupCommit?: GroupCommit;
  logger: Logger;
  policy: Policy;
  clock?: Clock;
  /** Node passes prom-client's; none elsewhere. */
  metrics?: Metrics;
  /** Defaults to a hub that wakes this process only, right for PGlite (one process). */
  hub?: Hub;
  /** Built from the finished deps, since a connection needs the database, the hub and the config. */
  sockets?: (deps: Deps) => SocketGateway;
  /** The process's shutdown signal; where there is none (Workers), waits end only by themselves. */
  stopping?: AbortSignal;
}

/** `Deps` from the parts an entry chooses; everything else is the same on every runtime. */
export function createDeps(parts: DepsParts): Deps {
  const { config, db, logger, policy, clock = systemClock, metrics = noMetrics } = parts;
  const run = parts.run ?? runOnDrizzle(db);
  const deps: Deps = {
    config,
    db,
    run,
    groupCommit: parts.groupCommit ?? new GroupCommit(),
    clock,
    logger,
    ...createSecurity(config, db),
    audit: new BufferedAuditLog(run, logger, () => clock.now()),
    policy,
    hub: parts.hub ?? new LocalHub(),
    sockets: undefined,
    stopping: parts.stopping ?? new AbortController().signal,
    metrics,
    version: VERSION,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
  };
  deps.sockets = parts.sockets?.(deps);
  return deps;
}
