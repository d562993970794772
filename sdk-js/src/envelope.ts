import { bareId } from './paths.js';
import type { Envelope, SendOptions } from './types.js';

/**
 * The envelope `send()` and `sendBatch()` post, before signing: a fresh id and timestamp unless
 * the caller fixed them. Built once per call, so every retry of that call repeats it exactly.
 */
export function envelopeOf(agentId: string, options: Omit<SendOptions, 'idempotencyKey'>): Envelope {
  const envelope: Envelope = {
    version: '1.0',
    id: options.id ?? crypto.randomUUID(),
    type: options.type,
    from: `agent://${agentId}`,
    to: `agent://${bareId(options.to)}`,
    subject: options.subject,
    body: options.body,
    timestamp: options.timestamp ?? new Date().toISOString(),
  };
  if (options.correlationId !== undefined) envelope.correlation_id = options.correlationId;
  if (options.headers !== undefined) envelope.headers = options.headers;
  if (options.ttlSec !== undefined) envelope.ttl_sec = options.ttlSec;
  return envelope;
}
