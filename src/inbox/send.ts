import { sql } from 'drizzle-orm';
import { AuthFailure } from '../auth/failure.js';
import type { SigningKeyRef } from '../auth/signing-keys.js';
import { type Db, firstRow } from '../db/database.js';
import { agentOf, DEFAULT_TTL_SEC, type Envelope, fingerprint, parseTimestamp } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';

/** FR-25: an envelope's timestamp may be at most this far from the relay's clock. */
export const TIMESTAMP_WINDOW_MS = 300_000;
/** FR-19: an identical envelope sent again within this window is the same message. */
const FINGERPRINT_WINDOW = sql.raw(`interval '10 minutes'`);

export interface SendInput {
  envelope: Envelope;
  idempotencyKey?: string | undefined;
  maxAttempts: number;
  now: number;
  /** The key the signature was verified with; the insert only happens while it is still active. */
  signedWith?: SigningKeyRef | undefined;
}

export interface SendResult {
  messageId: string;
  /** False when the SEND was recognised as a repeat and nothing new was stored. */
  created: boolean;
}

/**
 * Stores an envelope in its recipient's inbox, durably, before the caller answers 201.
 * Repeats are recognised first (idempotency key, then fingerprint) so a client retrying an
 * identical envelope after the timestamp window still gets its id back rather than a 422.
 */
export async function sendMessage(db: Db, input: SendInput): Promise<SendResult> {
  const { envelope, idempotencyKey = null } = input;
  const id = envelope.id.toLowerCase();
  const to = agentOf(envelope.to);
  const sentAt = parseTimestamp(envelope.timestamp) as number;
  const fresh = Math.abs(input.now - sentAt) <= TIMESTAMP_WINDOW_MS;
  const ttlSec = envelope.ttl_sec ?? DEFAULT_TTL_SEC;
  const fp = fingerprint({ ...envelope, id });
  const key = input.signedWith;

  const row = await firstRow<{ inserted_id: string | null; prior_id: string | null; key_active: boolean }>(
    db,
    sql`
      with prior as (
        (select id from message
          where ${idempotencyKey}::text is not null and to_agent_id = ${to} and idempotency_key = ${idempotencyKey}::text)
        union all
        (select id from message where fingerprint = ${fp} and created_at > now() - ${FINGERPRINT_WINDOW} limit 1)
        limit 1
      ), signer as (
        -- The signing key was verified from a cache; revoked since on any relay, it stores nothing.
        select ${key?.kid ?? null}::text is null or exists (
          select 1 from agent_key where agent_id = ${key?.agentId ?? null}::text and kid = ${key?.kid ?? null}::text
            and public_key = ${key?.publicKey ?? null}::text and revoked_at is null
        ) as active
      ), inserted as (
        insert into message (id, to_agent_id, from_agent_id, version, type, subject, correlation_id, headers, body,
          signature, timestamp, ttl_sec, expires_at, idempotency_key, fingerprint, max_attempts)
        select ${id}, agent.id, ${agentOf(envelope.from)}, ${envelope.version ?? '1.0'}, ${envelope.type},
          ${envelope.subject}, ${envelope.correlation_id ?? null}::text, ${jsonOrNull(envelope.headers)}::json,
          ${JSON.stringify(envelope.body)}::json, ${jsonOrNull(envelope.signature)}::jsonb, ${envelope.timestamp},
          ${ttlSec}, ${new Date(sentAt + ttlSec * 1000).toISOString()}::timestamptz, ${idempotencyKey}::text, ${fp},
          ${input.maxAttempts}
        from agent
        where agent.id = ${to} and ${fresh} and not exists (select 1 from prior) and (select active from signer)
        on conflict do nothing
        returning id
      )
      select (select id from inserted) as inserted_id, (select id from prior) as prior_id,
        (select active from signer) as key_active`,
  );
  if (row?.inserted_id) return { messageId: row.inserted_id, created: true };
  if (row?.prior_id) return { messageId: row.prior_id, created: false };
  if (row?.key_active === false) {
    throw new AuthFailure(
      'unknown_signing_key',
      `signing key ${key?.kid} of agent ${key?.agentId} was revoked`,
    );
  }
  if (!fresh) {
    throw new RelayError(
      'timestamp_window_exceeded',
      `timestamp must be within ${TIMESTAMP_WINDOW_MS / 1000} seconds of the relay's clock`,
    );
  }
  return resolveConflict(db, { id, to, fp, idempotencyKey });
}

/** Nothing was inserted and nothing matched beforehand: a missing recipient, or a race lost to a twin. */
async function resolveConflict(
  db: Db,
  k: { id: string; to: string; fp: string; idempotencyKey: string | null },
): Promise<SendResult> {
  const existing = await firstRow<{ id: string; fingerprint: string; idempotency_key: string | null }>(
    db,
    sql`select id, fingerprint, idempotency_key from message
        where id = ${k.id} or (to_agent_id = ${k.to} and idempotency_key = ${k.idempotencyKey}::text)
        order by (idempotency_key is not distinct from ${k.idempotencyKey}::text) desc limit 1`,
  );
  if (existing) {
    if (k.idempotencyKey !== null && existing.idempotency_key === k.idempotencyKey) {
      return { messageId: existing.id, created: false };
    }
    if (existing.fingerprint === k.fp) return { messageId: existing.id, created: false };
    throw new RelayError('id_conflict', `message ${k.id} already exists with different content`);
  }
  throw notFound(`agent ${k.to}`);
}

const jsonOrNull = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
