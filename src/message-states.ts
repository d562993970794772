/**
 * The message lifecycle (FR-16), declared once: the `message_status` enum, the OpenAPI document
 * and the docs all come from here. A message is `delivered` (in its inbox; ready once its
 * `available_at` has come), `leased` to one consumer, then `acked`, or back to `delivered`, or
 * `dead` once attempts or its TTL run out; its sender may cancel it while it is `delivered`.
 */
export const MESSAGE_STATES = ['delivered', 'leased', 'acked', 'dead', 'cancelled'] as const;

export type MessageState = (typeof MESSAGE_STATES)[number];

/**
 * The `message_status` enum in its database order (a value added later goes last). Besides the
 * states above it keeps four the PRD names but the relay never produces: it stores on SEND, so
 * nothing is `queued` or `sent`, and a NACK makes a message `delivered` again or `dead`, never
 * `nacked` or `failed`. PostgreSQL cannot drop an enum value without rewriting the table, so they
 * stay there, held by no row and advertised nowhere.
 */
export const STATUS_ENUM = [
  'queued',
  'sent',
  'delivered',
  'leased',
  'acked',
  'nacked',
  'failed',
  'dead',
  'cancelled',
] as const satisfies readonly string[];

/** States a message never leaves; retention deletes them after MESSAGE_RETENTION_SEC. */
export const FINISHED_STATES = ['acked', 'dead', 'cancelled'] as const satisfies readonly MessageState[];
