/**
 * What a credential may do for its agent. API keys and HMAC act with all of the agent's own
 * rights; a JWT only with those its `permissions` claim lists (SPEC: Authentication).
 */
export interface Grants {
  /** pull, ack, nack, reply, stats, reclaim and sessions on the agent's own inbox */
  pull: boolean;
  /** whom it may send to: anyone, or agent ids matching one of these globs */
  send: 'anyone' | readonly string[];
  /** the agent's keys and the agent itself; never granted by a JWT short of `admin` */
  manage: boolean;
}

export const AGENT_GRANTS: Grants = { pull: true, send: 'anyone', manage: true };

/** What a token without a `permissions` claim may do. */
const DEFAULT_PERMISSIONS = ['send', 'pull'];
const MAX_PERMISSIONS = 100;

/**
 * `billing.*` matches `billing.api`: `*` is any run of characters, everything else is literal.
 * Two pointers rather than a regular expression, so no pattern can make matching slow.
 */
export function matchesGlob(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (glob[g] === '*') {
      star = g++;
      resume = t;
    } else if (g < glob.length && glob[g] === text[t]) {
      g++;
      t++;
    } else if (star !== -1) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/**
 * Reads a JWT's `permissions` claim: `'admin'` for a token that may do anything, `undefined`
 * when the claim is not an array of strings. Permissions the relay does not know grant nothing.
 */
export function grantsFromClaim(claim: unknown): Grants | 'admin' | undefined {
  const list = claim === undefined ? DEFAULT_PERMISSIONS : claim;
  if (!Array.isArray(list) || list.length > MAX_PERMISSIONS) return undefined;
  if (!list.every((p) => typeof p === 'string' && p.length <= 256)) return undefined;
  if (list.includes('admin')) return 'admin';
  const globs = list.filter((p) => p.startsWith('send:')).map((p) => p.slice('send:'.length));
  return {
    pull: list.includes('pull'),
    send: list.includes('send') ? 'anyone' : globs,
    manage: false,
  };
}

export function maySendTo(grants: Grants, agentId: string): boolean {
  return grants.send === 'anyone' || grants.send.some((glob) => matchesGlob(glob, agentId));
}
