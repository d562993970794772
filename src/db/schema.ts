import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  json,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { STATUS_ENUM } from '../message-states.js';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const messageStatus = pgEnum('message_status', STATUS_ENUM);

export const agent = pgTable('agent', {
  id: text('id').primaryKey(),
  tier: text('tier').notNull().default('standard'),
  /** HMAC secret, AES-GCM encrypted with the server's secret key. */
  hmacSecret: text('hmac_secret').notNull(),
  /** Every envelope from this agent must carry a valid Ed25519 signature (FR-24). */
  requireSignature: boolean('require_signature').notNull().default(false),
  createdAt: createdAt(),
  lastSeen: timestamp('last_seen', { withTimezone: true }),
});

export const apiKey = pgTable(
  'api_key',
  {
    id: text('id').primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agent.id, { onDelete: 'cascade' }),
    hash: text('hash').notNull(),
    tier: text('tier').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_key_agent_idx').on(t.agentId)],
);

export const agentKey = pgTable(
  'agent_key',
  {
    agentId: text('agent_id')
      .notNull()
      .references(() => agent.id, { onDelete: 'cascade' }),
    kid: text('kid').notNull(),
    publicKey: text('public_key').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.kid] })],
);

export const session = pgTable(
  'session',
  {
    id: uuid('id').primaryKey(),
    agentId: text('agent_id')
      .notNull()
      .references(() => agent.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('session_agent_idx').on(t.agentId, t.expiresAt)],
);

export const policy = pgTable('policy', {
  name: text('name').primaryKey(),
  enabled: boolean('enabled').notNull().default(true),
  priority: integer('priority').notNull().default(100),
  fromAgentPattern: text('from_agent_pattern'),
  toAgentPattern: text('to_agent_pattern'),
  typePattern: text('type_pattern'),
  subjectPattern: text('subject_pattern'),
  action: text('action', { enum: ['allow', 'deny'] }).notNull(),
  rateLimitPerHour: integer('rate_limit_per_hour'),
  maxSizeKb: integer('max_size_kb'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The policy file's tiers (SPEC: Policies), kept beside its rules so every process reads both. */
export const policyTier = pgTable('policy_tier', {
  name: text('name').primaryKey(),
  requestsPerMinute: integer('requests_per_minute'),
});

/** FR-33: the times each sender's messages were admitted by a rate-limited rule, last hour only. */
export const policyRate = pgTable(
  'policy_rate',
  {
    policyName: text('policy_name').notNull(),
    agentId: text('agent_id').notNull(),
    hits: timestamp('hits', { withTimezone: true }).array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.policyName, t.agentId] })],
);

export const message = pgTable(
  'message',
  {
    id: text('id').primaryKey(),
    // Send order: timestamps can tie, a sequence cannot.
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    toAgentId: text('to_agent_id')
      .notNull()
      .references(() => agent.id, { onDelete: 'cascade' }),
    fromAgentId: text('from_agent_id').notNull(),
    version: text('version').notNull().default('1.0'),
    type: text('type').notNull(),
    subject: text('subject').notNull(),
    correlationId: text('correlation_id'),
    // json, not jsonb: bodies come back byte-for-byte as they were stored, key order included.
    headers: json('headers'),
    body: json('body').notNull(),
    signature: jsonb('signature'),
    /** The envelope's timestamp exactly as sent. */
    timestamp: text('timestamp').notNull(),
    ttlSec: integer('ttl_sec').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    idempotencyKey: text('idempotency_key'),
    fingerprint: text('fingerprint').notNull(),
    status: messageStatus('status').notNull().default('delivered'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    leaseId: uuid('lease_id'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    // When the current lease began: the lease-duration histogram measures from here to the ACK.
    leasedAt: timestamp('leased_at', { withTimezone: true }),
    ackedAt: timestamp('acked_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
    /** Not pulled, pushed or counted ready before this (a delayed SEND, a NACK with back-off). */
    availableAt: timestamp('available_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // The ready query: live messages of one inbox in send order. Acked and dead rows are
    // outside the predicate, so history never slows a PULL.
    index('message_ready_idx').on(t.toAgentId, t.seq).where(sql`${t.status} in ('delivered', 'leased')`),
    // The dead letters of one inbox in the order they died: their count in STATS, their listing
    // (the id breaks ties, so a cursor can resume exactly).
    index('message_dead_idx').on(t.toAgentId, t.finishedAt, t.id).where(sql`${t.status} = 'dead'`),
    // Browsing an inbox or an outbox, newest first, in one state or (one scan per state) in all.
    index('message_inbox_idx').on(t.toAgentId, t.status, t.seq),
    index('message_outbox_idx').on(t.fromAgentId, t.status, t.seq),
    // Only messages that carry one: most do not, and an index entry per row costs every update.
    index('message_correlation_idx').on(t.correlationId).where(sql`${t.correlationId} is not null`),
    uniqueIndex('message_idempotency_idx')
      .on(t.toAgentId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index('message_lease_idx').on(t.leaseUntil).where(sql`${t.status} = 'leased'`),
    // FR-15 asks for (timestamp, ttl_sec); the sweep asks "timestamp + ttl_sec < now()",
    // which only an index on the sum can answer, so the sum is stored and indexed.
    index('message_expiry_idx').on(t.expiresAt).where(sql`${t.status} in ('delivered', 'leased')`),
    // Finished rows (acked, dead, cancelled) for retention; only they carry a finished_at.
    index('message_finished_idx').on(t.finishedAt).where(sql`${t.finishedAt} is not null`),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    event: text('event').notNull(),
    agentId: text('agent_id'),
    messageId: text('message_id'),
    requestId: text('request_id'),
    detail: jsonb('detail'),
  },
  (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_message_idx').on(t.messageId)],
);

/** HMAC signatures seen inside their window (FR-25): the primary key refuses a replay. */
export const requestSignature = pgTable(
  'request_signature',
  {
    signature: text('signature').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('request_signature_expiry_idx').on(t.expiresAt)],
);

/** Requests per bucket (an agent at a tier) per fixed window, shared by every relay process. */
export const rateWindow = pgTable(
  'rate_window',
  {
    bucket: text('bucket').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    requests: integer('requests').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.bucket, t.windowStart] }),
    index('rate_window_expiry_idx').on(t.expiresAt),
  ],
);
