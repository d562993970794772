import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.js';
import type { Deps } from '../deps.js';
import { RelayError } from '../errors.js';
import { observe } from '../observe/events.js';
import { limitOf } from '../policy/tiers.js';
import { admit } from './admission.js';
import { keyIdOf, verifyApiKey } from './api-key.js';
import { constantTimeEqual } from './crypto.js';
import { AuthFailure } from './failure.js';
import { AGENT_GRANTS } from './grants.js';
import {
  HMAC_REMEMBER_SEC,
  type HmacHeaders,
  readHmacHeaders,
  requireFresh,
  stringToSign,
  verifyHmac,
} from './hmac.js';
import { JWT_SHAPE } from './jwt.js';
import { carriedPrincipal, type Principal } from './principal.js';

const BEARER = /^Bearer ([\x21-\x7e]{1,4096})$/;
const HMAC_HEADERS = ['x-agent-id', 'x-timestamp', 'x-signature'];

interface Identified {
  principal: Principal;
  nonce?: { signature: string; expiresAtSec: number };
}

async function identifyBearer(deps: Deps, token: string): Promise<Identified> {
  if (constantTimeEqual(token, deps.config.apiKey)) return { principal: { kind: 'admin', via: 'admin_key' } };
  const now = deps.clock.now();
  if (keyIdOf(token)) {
    const key = await verifyApiKey(deps.db, deps.keyCache, token, now);
    if (!key) throw new AuthFailure('unknown_api_key', 'the API key is unknown or revoked');
    return { principal: { kind: 'agent', ...key, via: 'api_key', grants: AGENT_GRANTS } };
  }
  if (!JWT_SHAPE.test(token)) throw new AuthFailure('unknown_api_key', 'the API key is unknown or revoked');
  if (!deps.jwt) throw new AuthFailure('invalid_jwt', 'this relay is not configured to accept JWTs');
  const identity = await deps.jwt.verify(token, now);
  if (identity.kind === 'admin') return { principal: { kind: 'admin', via: 'jwt' } };
  // A token for an agent the relay does not know (or has deleted) acts for nobody.
  const { agentId, grants } = identity;
  const agent = await deps.agents.get(agentId, now);
  if (!agent)
    throw new AuthFailure('unknown_agent', 'the JWT names an agent this relay does not know', agentId);
  return { principal: { kind: 'agent', agentId, tier: agent.tier, via: 'jwt', keyId: null, grants } };
}

async function identifyHmac(deps: Deps, c: Context<AppEnv>, h: HmacHeaders): Promise<Identified> {
  requireFresh(h, deps.clock.now());
  const agent = await deps.agents.get(h.agentId, deps.clock.now());
  if (!agent) throw new AuthFailure('unknown_agent', 'X-Agent-Id names no agent', h.agentId);
  if (!agent.hmacKey) {
    const message = 'the relay cannot open this agent’s HMAC secret (SECRET_KEY changed?); rotate the secret';
    throw new AuthFailure('bad_hmac', message, h.agentId);
  }
  const url = new URL(c.req.url);
  const body = new Uint8Array(await c.req.arrayBuffer());
  const message = stringToSign(h.timestamp, c.req.method, url.pathname + url.search, body);
  if (!(await verifyHmac(agent.hmacKey, h.signature, message))) {
    throw new AuthFailure('bad_hmac', 'X-Signature does not match this request', h.agentId);
  }
  return {
    principal: {
      kind: 'agent',
      agentId: h.agentId,
      tier: agent.tier,
      via: 'hmac',
      keyId: null,
      grants: AGENT_GRANTS,
    },
    nonce: { signature: h.signature, expiresAtSec: Number(h.timestamp) + HMAC_REMEMBER_SEC },
  };
}

async function identify(deps: Deps, c: Context<AppEnv>, queryToken?: string): Promise<Identified> {
  const authorization = c.req.header('authorization');
  const hmac = readHmacHeaders((name) => c.req.header(name));
  if (queryToken !== undefined) {
    if (hmac || authorization !== undefined) {
      throw new AuthFailure('malformed_credentials', 'send ?token= or credentials in headers, not both');
    }
    return identifyBearer(deps, queryToken);
  }
  if (hmac && authorization !== undefined) {
    throw new AuthFailure('malformed_credentials', 'send Authorization or the X-Signature headers, not both');
  }
  if (hmac) return identifyHmac(deps, c, hmac);
  if (authorization === undefined) {
    throw new AuthFailure(
      'missing_credentials',
      'send credentials: Authorization: Bearer <api key or JWT>, or HMAC',
    );
  }
  const token = BEARER.exec(authorization)?.[1];
  if (!token)
    throw new AuthFailure('malformed_credentials', 'the Authorization header must be "Bearer <token>"');
  return identifyBearer(deps, token);
}

/**
 * Replay and rate checks: one statement, and none at all for the admin or an unlimited tier.
 * Every credential of one agent at one tier shares a window, so an agent cannot raise its limit
 * by issuing itself more keys.
 */
async function admitRequest(deps: Deps, { principal, nonce }: Identified, metered: boolean): Promise<void> {
  if (principal.kind === 'admin') return;
  const limit = metered ? limitOf(deps.policy.tiers, principal.tier) : null;
  if (limit === null && !nonce) return;
  const bucket = `tier:${principal.agentId}:${principal.tier}`;
  const admitted = await admit(deps.db, {
    nonce,
    counter: limit === null ? undefined : { bucket, windowSec: 60 },
  });
  if (admitted.replayed) {
    throw new AuthFailure('replayed_request', 'this X-Signature was already used; sign each request anew');
  }
  if (limit !== null && admitted.requests > limit) {
    const message = `the ${principal.tier} tier allows ${limit} requests a minute`;
    throw new RelayError('rate_limited', message, { 'Retry-After': String(admitted.resetSec) });
  }
}

/** Counts and audits a refusal: who claimed what, never the credential itself. */
export function recordFailure(deps: Deps, c: Context<AppEnv>, failure: AuthFailure): void {
  const principal = c.get('principal') as Principal | undefined;
  const hmac = HMAC_HEADERS.some((name) => c.req.header(name) !== undefined);
  const scheme = hmac ? 'hmac' : c.req.header('authorization') !== undefined ? 'bearer' : 'none';
  observe(
    deps,
    {
      kind: 'auth.failure',
      agentId: principal?.kind === 'agent' ? principal.agentId : (failure.claimedAgent ?? null),
      reason: failure.reason,
      detail: {
        status: failure.status,
        method: c.req.method,
        // Bounded: the path is the caller's to choose, and audit rows should stay small.
        path: c.req.path.slice(0, 256),
        credential: principal?.via ?? scheme,
      },
    },
    c.get('requestId'),
  );
}

/**
 * Establishes the caller, refuses replays and callers over their tier, and audits every
 * authentication or authorization failure of the request, including those its handler raises.
 * Exported for routes outside the middleware chain, such as the WebSocket upgrade, the only
 * route that may carry a bearer token in `?token=` (browsers cannot set headers on a WebSocket).
 */
export async function authenticateRequest(
  deps: Deps,
  c: Context<AppEnv>,
  options: {
    queryToken?: string | undefined;
    /**
     * false for a request whose work is itself requests to the relay (`POST /mcp`): those are
     * counted against the tier, so counting the envelope too would charge a tool call twice.
     */
    metered?: boolean;
  } = {},
): Promise<Principal> {
  try {
    const carried = carriedPrincipal(c.env);
    const identified = carried ? { principal: carried } : await identify(deps, c, options.queryToken);
    c.set('principal', identified.principal);
    await admitRequest(deps, identified, options.metered ?? true);
    return identified.principal;
  } catch (error) {
    if (error instanceof AuthFailure) recordFailure(deps, c, error);
    throw error;
  }
}

/** `queryToken` reads a bearer token from the URL; only the WebSocket route passes one. */
export const authenticate = (deps: Deps, queryToken?: (c: Context<AppEnv>) => string | undefined) =>
  createMiddleware<AppEnv>(async (c, next) => {
    await authenticateRequest(deps, c, { queryToken: queryToken?.(c) });
    await next();
    if (c.error instanceof AuthFailure) recordFailure(deps, c, c.error);
  });
