import { AuthFailure } from './failure.js';
import { type Grants, maySendTo } from './grants.js';

/**
 * Who is calling: the relay's admin (the admin key, or a JWT with `admin`), or one agent acting
 * for itself with the rights its credential grants.
 */
export type Principal =
  | { kind: 'admin'; via: 'admin_key' | 'jwt' }
  | {
      kind: 'agent';
      agentId: string;
      tier: string;
      via: 'api_key' | 'hmac' | 'jwt';
      /** The API key's id; null for HMAC and JWT, which are not keys of the relay's. */
      keyId: string | null;
      grants: Grants;
    };

/**
 * Where a request made inside the relay (an MCP tool calling the relay's own routes) carries the
 * caller its outer request already authenticated. A symbol-keyed binding cannot arrive over the
 * network, so only code in this process can set it; the request is then admitted (rate limits)
 * and authorized exactly like one that brought its own credentials.
 */
export const CARRIED_PRINCIPAL = Symbol('admp.carried-principal');

export function carriedPrincipal(env: unknown): Principal | undefined {
  return (env as { [CARRIED_PRINCIPAL]?: Principal } | undefined)?.[CARRIED_PRINCIPAL];
}

export const isAdmin = (p: Principal) => p.kind === 'admin';

/** The admin may act for any agent; an agent's credentials act only for that agent. */
export function actsFor(p: Principal, agentId: string): boolean {
  return p.kind === 'admin' || p.agentId === agentId;
}

export function requireActsFor(p: Principal, agentId: string): void {
  if (!actsFor(p, agentId)) {
    throw new AuthFailure('forbidden', `these credentials act for ${describe(p)}, not for ${agentId}`);
  }
}

/** Inbox operations: pull, ack, nack, reply, stats, reclaim and sessions. */
export function requireInbox(p: Principal, agentId: string): void {
  requireActsFor(p, agentId);
  if (p.kind === 'agent' && !p.grants.pull) {
    throw new AuthFailure('missing_permission', 'this token lacks the pull permission');
  }
}

/** The agent itself and its keys: its own API key or HMAC, or the admin; never a scoped JWT. */
export function requireManage(p: Principal, agentId: string): void {
  requireActsFor(p, agentId);
  if (p.kind === 'agent' && !p.grants.manage) {
    throw new AuthFailure('missing_permission', 'managing an agent and its keys needs its API key or admin');
  }
}

/** SEND: `from` must be the caller, and the caller must be allowed to reach `to`. */
export function requireSend(p: Principal, from: string, to: string): void {
  if (!actsFor(p, from)) {
    throw new AuthFailure('sender_mismatch', `from must be the calling agent, not agent://${from}`);
  }
  if (p.kind === 'agent' && !maySendTo(p.grants, to)) {
    throw new AuthFailure('missing_permission', `this token may not send to ${to}`);
  }
}

export function requireAdmin(p: Principal): void {
  if (!isAdmin(p)) throw new AuthFailure('forbidden', 'this operation needs the admin key');
}

export const describe = (p: Principal) => (p.kind === 'admin' ? 'the admin' : `agent ${p.agentId}`);
