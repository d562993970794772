import { z } from '@hono/zod-openapi';
import { envelopeSchema } from '../envelope.js';
import { MESSAGE_STATES } from '../message-states.js';

/**
 * A message as a listing shows it: the envelope's fields plus its state, never a lease id. Spread
 * rather than `extend`ed, as Delivery is: extending the (closed) Envelope would publish an allOf
 * that refuses the fields it adds.
 */
export const ListedMessageSchema = z
  .object({
    ...envelopeSchema.shape,
    version: z.string(),
    ttl_sec: z.number().int(),
    status: z.enum(MESSAGE_STATES),
    attempts: z.number().int(),
    created_at: z.string(),
    available_at: z.string(),
    lease_until: z.string().nullable(),
    acked_at: z.string().nullable(),
    last_error: z.string().nullable(),
  })
  .strict()
  .openapi('ListedMessage');
