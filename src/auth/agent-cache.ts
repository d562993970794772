import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';
import type { SecretBox } from './crypto.js';
import { importHmacKey } from './hmac.js';
import { LoadingCache } from './loading-cache.js';

/** What authentication needs to know of an agent on every request. */
export interface AgentRecord {
  tier: string;
  requireSignature: boolean;
  /**
   * The agent's HMAC secret, opened once and held only as a non-extractable WebCrypto key;
   * undefined when it cannot be opened (SECRET_KEY changed since it was sealed).
   */
  hmacKey: CryptoKey | undefined;
}

/** Agents by id, so HMAC, JWT and signature checks cost no decryption and no query per request. */
export class AgentCache {
  private readonly cache: LoadingCache<AgentRecord>;

  constructor(db: Db, secrets: SecretBox, ttlMs?: number) {
    this.cache = new LoadingCache(async (agentId) => {
      const row = await firstRow<{ tier: string; require_signature: boolean; hmac_secret: string }>(
        db,
        sql`select tier, require_signature, hmac_secret from agent where id = ${agentId}`,
      );
      if (!row) return undefined;
      const hmacKey = await secrets.open(row.hmac_secret).then(importHmacKey, () => undefined);
      return { tier: row.tier, requireSignature: row.require_signature, hmacKey };
    }, ttlMs);
  }

  get(agentId: string, now: number): Promise<AgentRecord | undefined> {
    return this.cache.get(agentId, now);
  }

  evict(agentId: string): void {
    this.cache.evict((id) => id === agentId);
  }
}
