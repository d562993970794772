import { RelayError } from '../errors.js';

/** Who is calling: the relay's admin, or one agent acting for itself. */
export type Principal = { kind: 'admin' } | { kind: 'agent'; agentId: string; tier: string; keyId: string };

export const isAdmin = (p: Principal) => p.kind === 'admin';

/** The admin may act for any agent; an agent's credentials act only for that agent. */
export function actsFor(p: Principal, agentId: string): boolean {
  return p.kind === 'admin' || p.agentId === agentId;
}

export function requireActsFor(p: Principal, agentId: string): void {
  if (!actsFor(p, agentId)) {
    throw new RelayError('forbidden', `these credentials act for ${describe(p)}, not for ${agentId}`);
  }
}

export function requireAdmin(p: Principal): void {
  if (!isAdmin(p)) throw new RelayError('forbidden', 'this operation needs the admin key');
}

export const describe = (p: Principal) => (p.kind === 'admin' ? 'the admin' : `agent ${p.agentId}`);
