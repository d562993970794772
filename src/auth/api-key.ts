import bcrypt from 'bcryptjs';
import { sql } from 'drizzle-orm';
import { type Db, firstRow } from '../db/database.js';
import { sha256Hex } from '../envelope.js';
import { randomBytes, toBase64Url, toHex } from './crypto.js';

// admp_<16 hex key id>_<43 base64url secret>: the id finds the row, so bcrypt runs once per key.
const KEY_FORMAT = /^admp_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
const BCRYPT_COST = 10;

export interface IssuedKey {
  keyId: string;
  apiKey: string;
  hash: string;
}

export async function issueApiKey(): Promise<IssuedKey> {
  const keyId = toHex(randomBytes(8));
  const apiKey = `admp_${keyId}_${toBase64Url(randomBytes(32))}`;
  return { keyId, apiKey, hash: await bcrypt.hash(apiKey, BCRYPT_COST) };
}

export const keyIdOf = (token: string) => KEY_FORMAT.exec(token)?.[1];

export interface VerifiedKey {
  keyId: string;
  agentId: string;
  tier: string;
}

interface CacheEntry {
  key: VerifiedKey | null;
  /** The stored hash this token was checked against; a row with the same hash needs no new bcrypt. */
  hash: string | null;
  checkedAt: number;
}

/**
 * Verified keys, by SHA-256 of the token, so bcrypt is paid once per key rather than per
 * request. Entries are re-checked against the database after `ttlMs`, which bounds how long a
 * key revoked by another process keeps working; this process evicts at once.
 */
export class KeyCache {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(
    readonly ttlMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  get(digest: string): CacheEntry | undefined {
    return this.entries.get(digest);
  }

  set(digest: string, entry: CacheEntry): void {
    this.entries.delete(digest);
    this.entries.set(digest, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  evict(match: (key: VerifiedKey) => boolean): void {
    for (const [digest, entry] of this.entries) {
      if (entry.key && match(entry.key)) this.entries.delete(digest);
    }
  }
}

/** Resolves a bearer API key to its agent, or null when it is unknown, revoked or wrong. */
export async function verifyApiKey(
  db: Db,
  cache: KeyCache,
  token: string,
  now: number,
): Promise<VerifiedKey | null> {
  const keyId = keyIdOf(token);
  if (!keyId) return null;
  const digest = await sha256Hex(token);
  const cached = cache.get(digest);
  if (cached && now - cached.checkedAt < cache.ttlMs) return cached.key;

  const row = await firstRow<{ hash: string; tier: string; agent_id: string }>(
    db,
    sql`select hash, tier, agent_id from api_key where id = ${keyId} and revoked_at is null`,
  );
  let key: VerifiedKey | null = null;
  if (row && (cached?.hash === row.hash ? cached.key !== null : await bcrypt.compare(token, row.hash))) {
    key = { keyId, agentId: row.agent_id, tier: row.tier };
  }
  cache.set(digest, { key, hash: row?.hash ?? null, checkedAt: now });
  return key;
}
