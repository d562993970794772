import { z } from 'zod';
import { messageId } from '../envelope.js';
import type { ErrorCode } from '../errors.js';
import type { Delivery } from '../inbox/message-row.js';

/** The longest NACK extension, the same as over HTTP. */
export const MAX_EXTEND_SEC = 43_200;

const clientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ack'), message_id: messageId }),
  z.object({
    type: z.literal('nack'),
    message_id: messageId,
    extend: z.number().int().min(1).max(MAX_EXTEND_SEC).optional(),
  }),
  z.object({ type: z.literal('pong') }),
]);

export type ClientFrame = z.infer<typeof clientFrame>;

export type ServerFrame =
  | { type: 'welcome'; session_id: string; heartbeat_interval_sec: number; max_in_flight: number }
  | { type: 'message'; message: Delivery }
  | { type: 'ping' }
  | { type: 'error'; code: ErrorCode; message: string; message_id?: string };

/** A frame the client sent, or the error frame that answers it when it is not one. */
export function parseClientFrame(data: unknown): ClientFrame | Extract<ServerFrame, { type: 'error' }> {
  if (typeof data !== 'string') {
    return { type: 'error', code: 'validation_failed', message: 'frames are JSON text, not binary' };
  }
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { type: 'error', code: 'invalid_json', message: 'the frame is not valid JSON' };
  }
  const parsed = clientFrame.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return {
    type: 'error',
    code: 'validation_failed',
    message: `${where}${issue?.message ?? 'not a frame'} (expected ack, nack or pong)`,
  };
}

export const frame = (f: ServerFrame) => JSON.stringify(f);

/** Close codes the relay uses; 4000–4999 are the application's own range. */
export const CLOSE = {
  /** The relay is shutting down; reconnect (to another process). */
  goingAway: 1001,
  /** No pong for two heartbeat intervals. */
  heartbeatTimeout: 4000,
  /** The agent was deleted or the session removed while the socket was open. */
  sessionEnded: 4001,
} as const;
