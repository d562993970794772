import { type App, createApp } from '../app.js';
import { type Config, ConfigError, parseConfig } from '../config.js';
import { openNeonDatabase } from '../db/neon-database.js';
import { createDeps, type Deps } from '../deps.js';
import { renderError } from '../errors.js';
import { GroupCommit } from '../inbox/group-commit.js';
import { sweepOnce } from '../inbox/sweeper.js';
import { createConsoleLogger } from '../observe/console-logger.js';
import { defaultPolicy } from '../policy/load.js';
import { ObjectGateway, ObjectHub } from '../realtime/object-hub.js';

export { InboxObject } from '../realtime/inbox-object.js';

import { PolicyRefresher } from '../policy/store.js';

/** Bindings: `DATABASE_URL` and `API_KEY` are secrets, the rest plain vars (wrangler.toml). */
export interface Env {
  DATABASE_URL?: string;
  /** The Durable Object per inbox that holds its WebSockets (wrangler.toml). */
  INBOX?: DurableObjectNamespace;
  API_KEY?: string;
  [name: string]: unknown;
}

/**
 * The Cron Triggers in wrangler.toml and the sweeps each one runs; a test keeps the two in step.
 * A schedule not listed here (one added in the dashboard, say) runs every sweep.
 */
export const CRON_SWEEPS: Record<string, readonly ('leases' | 'ttl')[]> = {
  '* * * * *': ['leases'],
  '*/5 * * * *': ['ttl'],
};

interface Relay {
  app: App;
  deps: Deps;
  policy: PolicyRefresher;
}

// One relay per isolate, built on first use and rebuilt only if the bindings change, so the
// verified-key cache and the router survive from one request to the next.
let built: { bindings: string; relay: Relay } | undefined;

export function relayFor(env: Env): Relay {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === 'string') vars[name] = value;
  const bindings = JSON.stringify(vars);
  if (built?.bindings !== bindings)
    built = { bindings, relay: buildRelay(parseWorkerConfig(vars), env.INBOX) };
  return built.relay;
}

function parseWorkerConfig(vars: Record<string, string>): Config & { databaseUrl: string } {
  const config = parseConfig(vars);
  const problems = [];
  if (!config.databaseUrl)
    problems.push('DATABASE_URL: required on Workers, which have no embedded database');
  if (config.policyFile) {
    problems.push('POLICY_FILE: Workers have no file system; they enforce the policy a Node relay published');
  }
  if (problems.length) throw new ConfigError(problems);
  return config as Config & { databaseUrl: string };
}

function buildRelay(
  config: Config & { databaseUrl: string },
  inbox: DurableObjectNamespace | undefined,
): Relay {
  const database = openNeonDatabase(config.databaseUrl, config.neon);
  const logger = createConsoleLogger(config.logLevel);
  const deps = createDeps({
    config,
    db: database.db,
    logger,
    policy: defaultPolicy(),
    // One statement per operation: a grouped statement would answer one request's callers from
    // another request's I/O context, which Workers do not allow.
    groupCommit: new GroupCommit(Number.POSITIVE_INFINITY),
    ...(inbox ? { hub: new ObjectHub(inbox), sockets: () => new ObjectGateway(inbox) } : {}),
  });
  return { app: createApp(deps), deps, policy: new PolicyRefresher(deps, config.policyRefreshSec * 1000) };
}

/** A Worker cannot refuse to start, so bad bindings answer every request with 503 instead. */
function misconfigured(error: ConfigError): Response {
  console.error(JSON.stringify({ level: 'error', message: error.message }));
  const body = renderError('unavailable', 'the relay is misconfigured; its log names the bad settings');
  return Response.json(body, { status: 503 });
}

export default {
  async fetch(request, env, ctx) {
    let relay: Relay;
    try {
      relay = relayFor(env);
    } catch (error) {
      if (error instanceof ConfigError) return misconfigured(error);
      throw error;
    }
    // The first /v1 request of an isolate waits for the published policy (health checks and the
    // public documents need none); later ones re-read it in the background once it is older than
    // POLICY_REFRESH_SEC.
    if (new URL(request.url).pathname.startsWith('/v1/')) {
      const policy = relay.policy.ensure(Date.now());
      try {
        await policy.ready;
      } catch {
        const body = renderError('unavailable', 'the relay cannot read its policy from the database');
        return Response.json(body, { status: 503 });
      }
      if (policy.background) ctx.waitUntil(policy.background);
    }
    const response = await relay.app.fetch(request);
    finishAfter(relay.deps, ctx);
    return response;
  },

  async scheduled(controller, env, ctx) {
    const { deps } = relayFor(env);
    for (const which of CRON_SWEEPS[controller.cron] ?? (['leases', 'ttl'] as const)) {
      await sweepOnce(deps, which);
    }
    finishAfter(deps, ctx);
  },
} satisfies ExportedHandler<Env>;

/**
 * No timer outlives a request on Workers, so the audit rows an event handler recorded and the
 * notifies it sent to inboxes' Durable Objects finish after it has answered, while the runtime
 * keeps the isolate (or the object) alive for them.
 */
export function finishAfter(deps: Deps, ctx: { waitUntil(promise: Promise<unknown>): void }): void {
  ctx.waitUntil(deps.audit.flush());
  if (deps.hub instanceof ObjectHub) ctx.waitUntil(deps.hub.settled());
}
