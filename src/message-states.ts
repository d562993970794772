/**
 * The message lifecycle (FR-16), declared once and mirrored by the `message_status` enum.
 * `queued`, `sent`, `nacked` and `failed` are reserved by the PRD; the relay moves messages
 * through `delivered` → `leased` → `acked`, back to `delivered`, or on to `dead`.
 */
export const MESSAGE_STATES = [
  'queued',
  'sent',
  'delivered',
  'leased',
  'acked',
  'nacked',
  'failed',
  'dead',
] as const;

export type MessageState = (typeof MESSAGE_STATES)[number];
