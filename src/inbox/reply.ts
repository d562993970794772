import { isUniqueViolation } from '../db/database.js';
import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import { DEFAULT_TTL_SEC, fingerprint } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';
import { observe } from '../observe/events.js';
import { type LeaseRef, numberOrNull, SETTLE_TIMES } from './ack.js';
import { announceSent, type Origin } from './operation.js';

export type ReplyContent = { result: Record<string, unknown> } | { error: { code: string; message: string } };

export interface ReplyRequest extends LeaseRef, Origin {
  content: ReplyContent;
  idempotencyKey?: string | undefined;
}

/**
 * FR-9 in one statement: acks the original and delivers the answer to its sender, so a crash
 * can never leave one without the other. The reply keeps the original's correlation id (or
 * takes its id) and its subject. Durable, since it stores a message.
 */
const REPLY = statement(
  'admp_reply',
  `with original as (
     update message m set status = 'acked', acked_at = now(), finished_at = now(), lease_until = null
     where m.id = $1 and m.to_agent_id = $2 and m.status::text = 'leased' and m.lease_until > now()
       and ($3::uuid is null or m.lease_id = $3::uuid)
       and exists (select 1 from agent where agent.id = m.from_agent_id)
     returning m.from_agent_id, m.to_agent_id, coalesce(m.correlation_id, m.id) as correlation_id, m.subject,
       ${SETTLE_TIMES}
   ), inserted as (
     insert into message (id, to_agent_id, from_agent_id, type, subject, correlation_id, body, timestamp, ttl_sec,
       expires_at, idempotency_key, fingerprint, max_attempts)
     select $4::text, o.from_agent_id, o.to_agent_id, $5::text, o.subject, o.correlation_id, $6::json, $7::text,
       ${DEFAULT_TTL_SEC}, $7::text::timestamptz + make_interval(secs => ${DEFAULT_TTL_SEC}), $8::text, $9::text,
       $10::int
     from original o
     returning id
   )
   select inserted.id, o.from_agent_id as to, o.subject, o.correlation_id, o.lease_sec, o.delivery_sec
   from inserted, original o`,
  { durable: true },
);

/** A retried REPLY finds the original already acked; its idempotency key leads back to the first answer. */
const EARLIER_REPLY = statement(
  'admp_reply_earlier',
  `select r.id from message o join message r on r.to_agent_id = o.from_agent_id and r.idempotency_key = $3::text
   where o.id = $1 and o.to_agent_id = $2`,
  { durable: true },
);

interface ReplyRow {
  id: string;
  to: string;
  subject: string;
  correlation_id: string;
  lease_sec: number | null;
  delivery_sec: number;
}

/** REPLY: the answer's id (the first answer's, for a retry carrying the same Idempotency-Key). */
export async function reply(deps: Deps, request: ReplyRequest): Promise<string> {
  const { agentId } = request;
  const messageId = request.messageId.toLowerCase();
  const id = crypto.randomUUID();
  const timestamp = new Date(deps.clock.now()).toISOString();
  const [type, body] =
    'result' in request.content
      ? ['task.result', request.content.result]
      : ['task.error', request.content.error];
  const key = request.idempotencyKey ?? null;
  const rows = await deps
    .run<ReplyRow>(REPLY, [
      messageId,
      agentId,
      request.leaseId ?? null,
      id,
      type,
      JSON.stringify(body),
      timestamp,
      key,
      fingerprint({ id, type, body, timestamp }),
      deps.config.maxAttempts,
    ])
    .catch((error: unknown) => {
      // The whole statement failed, so the original stays leased for a corrected retry.
      if (isUniqueViolation(error)) {
        throw new RelayError('id_conflict', 'this Idempotency-Key already answered a different message');
      }
      throw error;
    });
  const row = rows[0];
  if (!row) {
    const [earlier] =
      key === null ? [] : await deps.run<{ id: string }>(EARLIER_REPLY, [messageId, agentId, key]);
    if (earlier) return earlier.id;
    throw notFound(`a message ${request.messageId} leased to ${agentId}`);
  }
  // A socket of this inbox has a slot free; announceSent wakes the sender, who may be waiting.
  deps.hub.notify(agentId, 'acked');
  const times = { leaseSec: numberOrNull(row.lease_sec), deliverySec: Number(row.delivery_sec) };
  observe(deps, { kind: 'message.acked', agentId, messageId, ...times, via: 'reply' }, request.requestId);
  announceSent(deps, {
    messageId: row.id,
    from: agentId,
    to: row.to,
    type,
    subject: row.subject,
    correlationId: row.correlation_id,
    policy: null,
    via: 'reply',
    requestId: request.requestId,
  });
  return row.id;
}
