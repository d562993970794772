import type { APIError } from './errors.js';

// Wire shapes keep the relay's field names (correlation_id, lease_id, …); options are camelCase.

/** The four envelope types of ADMP v1.0. */
export type MessageType = 'task.request' | 'task.result' | 'task.error' | 'event';

/**
 * Every state a message can be in, as STATUS reports it: `delivered` (in the inbox; ready from
 * its `available_at`), `leased` to one consumer, then `acked`, `dead` (attempts or TTL ran out)
 * or `cancelled` by its sender before anyone leased it.
 */
export type MessageState = 'delivered' | 'leased' | 'acked' | 'dead' | 'cancelled';

/** An Ed25519 envelope signature. */
export interface EnvelopeSignature {
  alg: 'ed25519';
  kid: string;
  /** Standard base64 of the 64-byte signature. */
  sig: string;
}

/** The signed JSON envelope, exactly as the relay stores it. */
export interface Envelope {
  version?: string;
  id: string;
  type: MessageType;
  /** `agent://<id>` */
  from: string;
  /** `agent://<id>` */
  to: string;
  subject: string;
  body: Record<string, unknown>;
  /** ISO 8601 with an offset, returned exactly as sent. */
  timestamp: string;
  correlation_id?: string | null;
  headers?: Record<string, unknown> | null;
  ttl_sec?: number;
  signature?: EnvelopeSignature | null;
}

/** A leased message, as PULL and the WebSocket hand it out. Settle it with ack, nack or reply. */
export interface Message extends Envelope {
  status: 'leased';
  /** ISO time the lease runs out; after it the message is delivered again. */
  lease_until: string;
  /** Passed back on ack / nack / reply so a stale holder cannot settle someone else's lease. */
  lease_id: string;
  /** Deliveries that ended without an ACK so far. */
  attempts: number;
}

/** Where a message stands, as `status()`, listings and threads report it. */
export interface MessageProgress {
  status: MessageState;
  attempts: number;
  created_at: string;
  /** When the message is (or was) first ready: later than `created_at` for a delayed SEND or a NACK with delay. */
  available_at: string;
  lease_until: string | null;
  acked_at: string | null;
  last_error: string | null;
}

/** Answer of `status()`. */
export interface MessageStatus extends MessageProgress {
  id: string;
  from: string;
  to: string;
}

/** Answer of `inboxStats()`. */
export interface InboxStats {
  ready: number;
  leased: number;
  dead: number;
  oldest_age_sec: number;
}

/** Answer of `nack()`. */
export interface NackResult {
  /** `leased` after an extend, `delivered` when given back, `dead` when attempts ran out. */
  status: MessageState;
  lease_until?: string | null;
  attempts: number;
}

/** Options of `send()`. */
export interface SendOptions {
  /** The recipient: `agent://billing` or `billing`. */
  to: string;
  type: MessageType;
  /** 1–255 characters. */
  subject: string;
  /** A JSON object, at most 1 MiB serialized. */
  body: Record<string, unknown>;
  correlationId?: string;
  headers?: Record<string, unknown>;
  /** 1 to 604800; the relay's default is 86400. */
  ttlSec?: number;
  /** Defaults to a fresh random key per call, reused on that call's retries. */
  idempotencyKey?: string;
  /** Seconds before the message may be delivered (0 to its `ttlSec`): it is stored now, ready later. */
  delaySec?: number;
  /** The envelope id; defaults to a random UUID. */
  id?: string;
  /**
   * The envelope timestamp (ISO 8601 with an offset); defaults to now. Give `id` and `timestamp`
   * together to make a later resend of the same message byte-identical, so the relay recognises it.
   */
  timestamp?: string;
}

/** Options of `pull()`. */
export interface PullOptions {
  /** Seconds the message stays leased to you (1–3600, default 30). */
  visibilityTimeout?: number;
  /** Seconds to wait for a message when the inbox is empty (long poll; default 0). */
  wait?: number;
}

/** Options of `nack()`. */
export interface NackOptions {
  /** Keep the lease this many seconds longer instead of giving the message back. */
  extend?: number;
  /** Give the message back, ready again this many seconds later (back-off); not with `extend`. */
  delaySec?: number;
}

/** What `reply()` sends: a result object, or an error with a code and a message. */
export type ReplyOptions = { result: Record<string, unknown> } | { error: { code: string; message: string } };

/** Options of `waitForReply()`. */
export interface WaitOptions {
  /** Give up after this many milliseconds with a TimeoutError (default 5000). */
  timeoutMs?: number;
}

/** A message or its id; with a message, its `lease_id` is passed along. */
export type MessageRef = string | (Pick<Message, 'id'> & Partial<Pick<Message, 'lease_id'>>);

/** One message of `sendBatch()`: what `send()` takes, minus the per-SEND idempotency key and delay. */
export type BatchItem = Omit<SendOptions, 'idempotencyKey' | 'delaySec'>;

/** Options of `sendBatch()`. */
export interface SendBatchOptions {
  /** Seconds before every message of the batch may be delivered (0 to the smallest `ttlSec`). */
  delaySec?: number;
}

/**
 * One envelope's outcome in `sendBatch()`, in request order: `{ messageId }` when it was stored, or
 * `{ messageId, error }` when it was refused (`messageId` is then the envelope's id). `error` is the APIError subclass a single `send()`
 * would have thrown (e.g. NotFoundError for an unknown recipient), returned, never thrown.
 */
export type SendBatchResult =
  | { messageId: string; error?: undefined }
  | { messageId: string; error: APIError };

/**
 * One ACK's outcome in `ackBatch()`, in request order: `{ messageId, status: 'acked' }`, or
 * `{ messageId, error }` (a NotFoundError when the lease is no longer yours).
 */
export type AckBatchResult =
  | { messageId: string; status: 'acked'; error?: undefined }
  | { messageId: string; status?: undefined; error: APIError };

/** What `ackBatch()` takes per item: a leased message, or `{ message_id, lease_id }` as the wire has it. */
export type AckRef = Pick<Message, 'id' | 'lease_id'> | { message_id: string; lease_id: string };

/** Options of `pullBatch()`. */
export interface PullBatchOptions extends PullOptions {
  /** At most this many messages (1–100, default 10). */
  maxMessages?: number;
}
