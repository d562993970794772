import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';
import type { Deps } from '../deps.js';
import { agentOf, type Envelope } from '../envelope.js';
import { fromBase64 } from './crypto.js';
import { AuthFailure } from './failure.js';
import { LoadingCache } from './loading-cache.js';
import { verifySignature } from './signature.js';

/** The key a SEND was verified with; the insert re-checks it is still active in the same statement. */
export interface SigningKeyRef {
  agentId: string;
  kid: string;
  publicKey: string;
}

// Agent ids cannot hold a newline, so this joins agent and kid without ambiguity.
const cacheKey = (agentId: string, kid: string) => `${agentId}\n${kid}`;

/** Active signing keys by agent and kid, as stored (standard base64). */
export class SigningKeyCache {
  private readonly cache: LoadingCache<string>;

  constructor(db: Db, ttlMs?: number) {
    this.cache = new LoadingCache(async (key) => {
      const [agentId, kid] = key.split(/\n(.*)/s) as [string, string];
      const row = await firstRow<{ public_key: string }>(
        db,
        sql`select public_key from agent_key where agent_id = ${agentId} and kid = ${kid} and revoked_at is null`,
      );
      return row?.public_key;
    }, ttlMs);
  }

  get(agentId: string, kid: string, now: number): Promise<string | undefined> {
    return this.cache.get(cacheKey(agentId, kid), now);
  }

  evict(agentId: string, kid?: string): void {
    const exact = kid === undefined ? undefined : cacheKey(agentId, kid);
    this.cache.evict((key) => (exact ? key === exact : key.startsWith(`${agentId}\n`)));
  }
}

/**
 * FR-24 on SEND, before anything is stored: a present signature must verify under an active key
 * of the sender, and a sender that requires signatures (or a relay that does) must sign.
 * Returns the key used, for the insert to confirm it was not revoked meanwhile.
 */
export async function checkEnvelopeSignature(
  deps: Pick<Deps, 'agents' | 'signingKeys' | 'config' | 'clock'>,
  envelope: Envelope,
): Promise<SigningKeyRef | undefined> {
  const from = agentOf(envelope.from);
  const now = deps.clock.now();
  if (!envelope.signature) {
    const required = deps.config.requireSignatures || (await deps.agents.get(from, now))?.requireSignature;
    if (required) throw new AuthFailure('unsigned_envelope', `messages from ${from} must be signed (FR-24)`);
    return undefined;
  }
  const { kid, sig } = envelope.signature;
  const publicKey = await deps.signingKeys.get(from, kid, now);
  if (!publicKey) {
    throw new AuthFailure('unknown_signing_key', `agent ${from} has no active signing key with that kid`);
  }
  if (!verifySignature(fromBase64(publicKey), sig, envelope)) {
    throw new AuthFailure('bad_envelope_signature', 'the envelope signature does not verify');
  }
  return { agentId: from, kid, publicKey };
}
