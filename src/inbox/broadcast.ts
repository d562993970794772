import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { sql } from 'drizzle-orm';
import { type Db, rows } from '../db/database.js';
import { agentOf, DEFAULT_TTL_SEC, type Envelope, fingerprint, parseTimestamp } from '../envelope.js';

/** The broadcast address: every agent with a live session except the sender. */
export const BROADCAST_TO = 'agent://*';

/**
 * The id of one recipient's copy: derived from the envelope id and the recipient, so a retried
 * broadcast finds the copies it already stored instead of storing them twice. A UUID (version 8,
 * RFC 9562's custom layout) like any other message id.
 */
export function copyId(envelopeId: string, recipient: string): string {
  const hex = bytesToHex(sha256(utf8ToBytes(`${envelopeId.toLowerCase()}\n${recipient}`))).slice(0, 32);
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const v = `${hex.slice(0, 12)}8${hex.slice(13, 16)}${variant}${hex.slice(17, 32)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
}

export interface BroadcastInput {
  envelope: Envelope;
  recipients: string[];
  maxAttempts: number;
}

/**
 * Stores one copy per recipient in one statement, durably before the caller answers. Each copy is
 * an ordinary message (its own id, `to` the recipient), so PULL, push, ACK and ordering treat it
 * like any other. Returns each recipient's copy id and whether this call stored it.
 */
export async function storeCopies(
  db: Db,
  input: BroadcastInput,
): Promise<{ agentId: string; messageId: string; created: boolean }[]> {
  const { envelope, recipients } = input;
  if (recipients.length === 0) return [];
  const from = agentOf(envelope.from);
  const sentAt = parseTimestamp(envelope.timestamp) as number;
  const ttlSec = envelope.ttl_sec ?? DEFAULT_TTL_SEC;
  const ids = recipients.map((r) => copyId(envelope.id, r));
  const fps = recipients.map((r, i) =>
    fingerprint({ ...envelope, id: ids[i] as string, to: `agent://${r}` }),
  );
  const list = (values: string[]) => `{${values.map((v) => `"${v}"`).join(',')}}`;
  const inserted = await rows<{ id: string }>(
    db,
    sql`
      insert into message (id, to_agent_id, from_agent_id, version, type, subject, correlation_id, headers, body,
        signature, timestamp, ttl_sec, expires_at, fingerprint, max_attempts)
      select c.id, agent.id, ${from}, ${envelope.version ?? '1.0'}, ${envelope.type}, ${envelope.subject},
        ${envelope.correlation_id ?? null}::text, ${jsonOrNull(envelope.headers)}::json,
        ${JSON.stringify(envelope.body)}::json, ${jsonOrNull(envelope.signature)}::jsonb, ${envelope.timestamp},
        ${ttlSec}, ${new Date(sentAt + ttlSec * 1000).toISOString()}::timestamptz, c.fp, ${input.maxAttempts}
      from unnest(${list(ids)}::text[], ${list(recipients)}::text[], ${list(fps)}::text[]) with ordinality
        as c(id, agent_id, fp, n)
      join agent on agent.id = c.agent_id
      order by c.n
      on conflict do nothing
      returning id`,
  );
  const stored = new Set(inserted.map((r) => r.id));
  return recipients.map((agentId, i) => {
    const messageId = ids[i] as string;
    return { agentId, messageId, created: stored.has(messageId) };
  });
}

const jsonOrNull = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
