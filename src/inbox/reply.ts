import { sql } from 'drizzle-orm';
import { type Db, firstRow, isUniqueViolation } from '../db/database.js';
import { DEFAULT_TTL_SEC, fingerprint } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';
import type { LeaseRef } from './settle.js';

export type ReplyContent = { result: Record<string, unknown> } | { error: { code: string; message: string } };

export interface ReplyInput extends LeaseRef {
  content: ReplyContent;
  idempotencyKey?: string | undefined;
  maxAttempts: number;
  now: number;
}

/**
 * FR-9 in one statement: acks the original and delivers the answer to its sender, so a crash
 * can never leave one without the other. The reply keeps the original's correlation id (or
 * takes its id) and its subject.
 */
/** The reply's id, and its recipient when this call stored it (a retry finds the first reply instead). */
export async function replyToMessage(
  db: Db,
  input: ReplyInput,
): Promise<{ messageId: string; to: string | undefined }> {
  const id = crypto.randomUUID();
  const timestamp = new Date(input.now).toISOString();
  const [type, body] =
    'result' in input.content ? ['task.result', input.content.result] : ['task.error', input.content.error];
  const fp = fingerprint({ id, type, body, timestamp });
  const key = input.idempotencyKey ?? null;
  const row = await firstRow<{ id: string; to_agent_id: string }>(
    db,
    sql`
      with original as (
        update message o set status = 'acked', acked_at = now(), finished_at = now(), lease_until = null
        where o.id = ${input.messageId.toLowerCase()} and o.to_agent_id = ${input.agentId} and o.status = 'leased'
          and o.lease_until > now()
          and (${input.leaseId ?? null}::uuid is null or o.lease_id = ${input.leaseId ?? null}::uuid)
          and exists (select 1 from agent where agent.id = o.from_agent_id)
        returning o.from_agent_id, o.to_agent_id, coalesce(o.correlation_id, o.id) as correlation_id, o.subject
      )
      insert into message (id, to_agent_id, from_agent_id, type, subject, correlation_id, body, timestamp, ttl_sec,
        expires_at, idempotency_key, fingerprint, max_attempts)
      select ${id}, o.from_agent_id, o.to_agent_id, ${type}, o.subject, o.correlation_id, ${JSON.stringify(body)}::json,
        ${timestamp}, ${DEFAULT_TTL_SEC}, ${timestamp}::timestamptz + make_interval(secs => ${DEFAULT_TTL_SEC}),
        ${key}::text, ${fp}, ${input.maxAttempts}
      from original o
      returning id, to_agent_id`,
  ).catch((error: unknown) => {
    // The whole statement failed, so the original stays leased for a corrected retry.
    if (isUniqueViolation(error)) {
      throw new RelayError('id_conflict', 'this Idempotency-Key already answered a different message');
    }
    throw error;
  });
  if (row) return { messageId: row.id, to: row.to_agent_id };
  return { messageId: await findEarlierReply(db, input, key), to: undefined };
}

/** A retried REPLY finds the original already acked; its idempotency key leads back to the first answer. */
async function findEarlierReply(db: Db, ref: LeaseRef, key: string | null): Promise<string> {
  if (key !== null) {
    const earlier = await firstRow<{ id: string }>(
      db,
      sql`select r.id from message o join message r on r.to_agent_id = o.from_agent_id and r.idempotency_key = ${key}
          where o.id = ${ref.messageId.toLowerCase()} and o.to_agent_id = ${ref.agentId}`,
    );
    if (earlier) return earlier.id;
  }
  throw notFound(`a message ${ref.messageId} leased to ${ref.agentId}`);
}
