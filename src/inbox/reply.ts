import { sql } from 'drizzle-orm';
import { type Db, firstRow, isUniqueViolation } from '../db/database.js';
import { DEFAULT_TTL_SEC, fingerprint } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';
import { type AckTimes, type LeaseRef, numberOrNull, SETTLE_TIMES } from './settle.js';

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
interface ReplyRow {
  id: string;
  to: string;
  subject: string;
  correlation_id: string;
  lease_sec: number | null;
  delivery_sec: number;
}

/** The reply's id; for a first answer also what the events need, for a repeat only the id. */
export type ReplyResult =
  | ({
      repeat: false;
      messageId: string;
      type: string;
      to: string;
      subject: string;
      correlationId: string;
    } & AckTimes)
  | { repeat: true; messageId: string };

export async function replyToMessage(db: Db, input: ReplyInput): Promise<ReplyResult> {
  const id = crypto.randomUUID();
  const timestamp = new Date(input.now).toISOString();
  const [type, body] =
    'result' in input.content ? ['task.result', input.content.result] : ['task.error', input.content.error];
  const fp = fingerprint({ id, type, body, timestamp });
  const key = input.idempotencyKey ?? null;
  const row = await firstRow<ReplyRow>(
    db,
    sql`
      with original as (
        update message o set status = 'acked', acked_at = now(), finished_at = now(), lease_until = null
        where o.id = ${input.messageId.toLowerCase()} and o.to_agent_id = ${input.agentId} and o.status = 'leased'
          and o.lease_until > now()
          and (${input.leaseId ?? null}::uuid is null or o.lease_id = ${input.leaseId ?? null}::uuid)
          and exists (select 1 from agent where agent.id = o.from_agent_id)
        returning o.from_agent_id, o.to_agent_id, coalesce(o.correlation_id, o.id) as correlation_id, o.subject,
          ${SETTLE_TIMES}
      ), inserted as (
        insert into message (id, to_agent_id, from_agent_id, type, subject, correlation_id, body, timestamp, ttl_sec,
          expires_at, idempotency_key, fingerprint, max_attempts)
        select ${id}, o.from_agent_id, o.to_agent_id, ${type}, o.subject, o.correlation_id, ${JSON.stringify(body)}::json,
          ${timestamp}, ${DEFAULT_TTL_SEC}, ${timestamp}::timestamptz + make_interval(secs => ${DEFAULT_TTL_SEC}),
          ${key}::text, ${fp}, ${input.maxAttempts}
        from original o
        returning id
      )
      select inserted.id, o.from_agent_id as to, o.subject, o.correlation_id, o.lease_sec, o.delivery_sec
      from inserted, original o`,
  ).catch((error: unknown) => {
    // The whole statement failed, so the original stays leased for a corrected retry.
    if (isUniqueViolation(error)) {
      throw new RelayError('id_conflict', 'this Idempotency-Key already answered a different message');
    }
    throw error;
  });
  if (row) {
    return {
      repeat: false,
      messageId: row.id,
      type,
      to: row.to,
      subject: row.subject,
      correlationId: row.correlation_id,
      leaseSec: numberOrNull(row.lease_sec),
      deliverySec: Number(row.delivery_sec),
    };
  }
  return { repeat: true, messageId: await findEarlierReply(db, input, key) };
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
