import { AuthFailure } from '../auth/failure.js';
import { type Principal, requireSend } from '../auth/principal.js';
import { checkEnvelopeSignature, type SigningKeyRef } from '../auth/signing-keys.js';
import { isoOrNull } from '../db/database.js';
import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import { agentOf, DEFAULT_TTL_SEC, type Envelope, fingerprint, parseTimestamp } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';
import { enforcePolicy, policySubject } from '../policy/evaluate.js';
import { type Outcome, outcomes } from './group-commit.js';
import { announceSent } from './operation.js';

/** FR-25: an envelope's timestamp may be at most this far from the relay's clock. */
export const TIMESTAMP_WINDOW_MS = 300_000;

export interface SendItem {
  envelope: Envelope;
  /** Who asks; the envelope's `from` must be this caller, and the caller may have to reach `to`. */
  principal: Principal;
  idempotencyKey?: string | undefined;
  /** Seconds before the message may be pulled or pushed: 0 up to its `ttl_sec`. */
  delaySec?: number | undefined;
  requestId?: string | undefined;
}

export interface SendResult {
  messageId: string;
  /** False when the SEND was recognised as a repeat and nothing new was stored. */
  created: boolean;
}

/** One envelope checked and ready for the insert. */
interface Admitted {
  item: SendItem;
  id: string;
  to: string;
  fp: string;
  fresh: boolean;
  signedWith: SigningKeyRef | undefined;
  policy: string;
}

/**
 * SEND, one envelope: checked on its own, then stored together with whatever other SENDs arrive
 * at the same moment (one insert, one commit for all of them), durably before the caller answers.
 */
export async function send(deps: Deps, item: SendItem): Promise<SendResult> {
  const admitted = await admit(deps, item);
  return deps.groupCommit.submit('send', admitted, (group) => store(deps, group));
}

/** SEND batch: each envelope succeeds or fails exactly as its single SEND would. */
export async function sendBatch(deps: Deps, items: SendItem[]): Promise<Outcome<SendResult>[]> {
  const checked = await outcomes(items.map((item) => admit(deps, item)));
  const ready = checked.flatMap((c) => (c.ok ? [c.value] : []));
  const stored = ready.length ? await store(deps, ready) : [];
  let next = 0;
  return checked.map((c) => (c.ok ? (stored[next++] as Outcome<SendResult>) : c));
}

/** Authorization, signature and policy: everything decided before the database is asked to store. */
async function admit(deps: Deps, item: SendItem): Promise<Admitted> {
  const { envelope } = item;
  const from = agentOf(envelope.from);
  const to = agentOf(envelope.to);
  requireSend(item.principal, from, to);
  const signedWith = await checkEnvelopeSignature(deps, envelope);
  const policy = await enforcePolicy(deps, policySubject(envelope), item.requestId);
  const ttl = envelope.ttl_sec ?? DEFAULT_TTL_SEC;
  if ((item.delaySec ?? 0) > ttl) {
    throw new RelayError('validation_failed', `delay: must be at most the message's ttl_sec (${ttl})`);
  }
  const id = envelope.id.toLowerCase();
  const sentAt = parseTimestamp(envelope.timestamp) as number;
  const fresh = Math.abs(deps.clock.now() - sentAt) <= TIMESTAMP_WINDOW_MS;
  return { item, id, to, fp: fingerprint({ ...envelope, id }), fresh, signedWith, policy };
}

// A repeat is recognised before anything is stored: the same (recipient, Idempotency-Key), or the
// same id with the same fingerprint within 10 minutes (FR-18, FR-19; the fingerprint covers the
// id, so the primary key finds it). A signing key revoked on any relay since it was cached stores
// nothing. The insert keeps request order, so per-pair order holds.
const STORE = statement(
  'admp_send',
  `with input as (
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[],
       $16::int[], $17::bool[], $18::text[], $19::text[], $20::text[], $21::int[]) with ordinality
       as i(id, to_agent_id, from_agent_id, version, type, subject, correlation_id, headers, body, signature,
         timestamp, ttl_sec, expires_at, idempotency_key, fingerprint, max_attempts, fresh, key_agent, key_kid,
         key_public, delay_sec, n)
   ), checked as (
     select i.*,
       coalesce(
         (select m.id from message m where i.idempotency_key is not null and m.to_agent_id = i.to_agent_id
           and m.idempotency_key = i.idempotency_key),
         (select m.id from message m where m.id = i.id and m.fingerprint = i.fingerprint
           and m.created_at > now() - interval '10 minutes')) as prior_id,
       (i.key_kid is null or exists (select 1 from agent_key k where k.agent_id = i.key_agent
         and k.kid = i.key_kid and k.public_key = i.key_public and k.revoked_at is null)) as key_active
     from input i
   ), inserted as (
     insert into message (id, to_agent_id, from_agent_id, version, type, subject, correlation_id, headers, body,
       signature, timestamp, ttl_sec, expires_at, idempotency_key, fingerprint, max_attempts, available_at)
     select c.id, a.id, c.from_agent_id, c.version, c.type, c.subject, c.correlation_id, c.headers::json,
       c.body::json, c.signature::jsonb, c.timestamp, c.ttl_sec, c.expires_at::timestamptz, c.idempotency_key,
       c.fingerprint, c.max_attempts, now() + make_interval(secs => c.delay_sec)
     from checked c join agent a on a.id = c.to_agent_id
     where c.fresh and c.key_active and c.prior_id is null
     order by c.n
     on conflict do nothing
     returning id, available_at
   )
   select c.n, c.id, c.prior_id, c.key_active, s.id is not null as inserted, s.available_at
   from checked c left join inserted s on s.id = c.id order by c.n`,
  { durable: true },
);

interface StoreRow {
  id: string;
  prior_id: string | null;
  key_active: boolean;
  inserted: boolean;
  available_at: Date | string | null;
}

/** Stores admitted envelopes in one statement and answers each; events follow for the new ones. */
async function store(deps: Deps, group: Admitted[]): Promise<Outcome<SendResult>[]> {
  const column = <T>(pick: (a: Admitted) => T) => group.map(pick);
  const envelope = (a: Admitted) => a.item.envelope;
  const ttl = (a: Admitted) => envelope(a).ttl_sec ?? DEFAULT_TTL_SEC;
  const rows = await deps.run<StoreRow>(STORE, [
    column((a) => a.id),
    column((a) => a.to),
    column((a) => agentOf(envelope(a).from)),
    column((a) => envelope(a).version ?? '1.0'),
    column((a) => envelope(a).type),
    column((a) => envelope(a).subject),
    column((a) => envelope(a).correlation_id ?? null),
    column((a) => jsonOrNull(envelope(a).headers)),
    column((a) => JSON.stringify(envelope(a).body)),
    column((a) => jsonOrNull(envelope(a).signature)),
    column((a) => envelope(a).timestamp),
    column(ttl),
    column((a) => new Date((parseTimestamp(envelope(a).timestamp) as number) + ttl(a) * 1000).toISOString()),
    column((a) => a.item.idempotencyKey ?? null),
    column((a) => a.fp),
    column(() => deps.config.maxAttempts),
    column((a) => a.fresh),
    column((a) => a.signedWith?.agentId ?? null),
    column((a) => a.signedWith?.kid ?? null),
    column((a) => a.signedWith?.publicKey ?? null),
    column((a) => a.item.delaySec ?? 0),
  ]);
  // Two items of one group with the same id: the first stored it, the second is its repeat.
  const claimed = new Set<string>();
  return outcomes(
    group.map(async (a, i) => {
      const row = rows[i] as StoreRow;
      if (row.inserted && !claimed.has(a.id)) {
        claimed.add(a.id);
        const { from, type, subject, correlation_id = null } = envelope(a);
        announceSent(deps, {
          messageId: a.id,
          from: agentOf(from),
          to: a.to,
          type,
          subject,
          correlationId: correlation_id,
          policy: a.policy,
          via: 'send',
          requestId: a.item.requestId,
          availableAt: a.item.delaySec ? Date.parse(isoOrNull(row.available_at) as string) : undefined,
        });
        return { messageId: a.id, created: true };
      }
      if (row.prior_id) return { messageId: row.prior_id, created: false };
      return explainNotStored(deps, a, row);
    }),
  );
}

/** Nothing was stored and nothing matched beforehand: say why, the rare path, one item at a time. */
async function explainNotStored(deps: Deps, a: Admitted, row: StoreRow): Promise<SendResult> {
  if (!row.key_active) {
    const key = a.signedWith;
    throw new AuthFailure(
      'unknown_signing_key',
      `signing key ${key?.kid} of agent ${key?.agentId} was revoked`,
    );
  }
  if (!a.fresh) {
    throw new RelayError(
      'timestamp_window_exceeded',
      `timestamp must be within ${TIMESTAMP_WINDOW_MS / 1000} seconds of the relay's clock`,
    );
  }
  const key = a.item.idempotencyKey ?? null;
  const [existing] = await deps.run<{ id: string; fingerprint: string; idempotency_key: string | null }>(
    FIND_EXISTING,
    [a.id, a.to, key],
  );
  if (existing) {
    if (key !== null && existing.idempotency_key === key) return { messageId: existing.id, created: false };
    if (existing.fingerprint === a.fp) return { messageId: existing.id, created: false };
    throw new RelayError('id_conflict', `message ${a.id} already exists with different content`);
  }
  throw notFound(`agent ${a.to}`);
}

/** A missing recipient, or a race lost to a twin stored meanwhile under the same id or key. */
const FIND_EXISTING = statement(
  'admp_send_existing',
  `select id, fingerprint, idempotency_key from message
   where id = $1 or (to_agent_id = $2 and idempotency_key = $3::text)
   order by (idempotency_key is not distinct from $3::text) desc limit 1`,
  { durable: true },
);

const jsonOrNull = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
