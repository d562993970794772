import { z } from '@hono/zod-openapi';
import { agentId, MAX_TTL_SEC, messageId } from '../envelope.js';
import { ERROR_STATUS, type ErrorCode, RelayError } from '../errors.js';
import type { Policy } from '../policy/load.js';
import { TIER_NAME } from '../policy/tiers.js';

/** The most rows one page of a listing holds. */
export const MAX_PAGE = 200;

export const ErrorSchema = z
  .object({
    error: z.object({ code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode]), message: z.string() }),
    request_id: z.string().optional(),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
});

/** The error responses a route may give, documented once here. */
export const errors = {
  400: errorResponse('Malformed JSON (`invalid_json`)'),
  401: errorResponse('Missing, invalid, stale or replayed credentials (`unauthorized`)'),
  403: errorResponse('Not allowed (`forbidden`, `sender_mismatch`, `policy_denied`, `invalid_signature`)'),
  404: errorResponse('No such resource visible to the caller (`not_found`)'),
  409: errorResponse(
    'The id or key is taken by something else (`id_conflict`), or the message is past that step (`invalid_state`)',
  ),
  413: errorResponse('Body or headers too large (`payload_too_large`)'),
  415: errorResponse('The body is not JSON (`unsupported_media_type`)'),
  422: errorResponse('Invalid input (`validation_failed`, `ttl_too_long`, `timestamp_window_exceeded`)'),
  429: errorResponse('Over the rate limit (`rate_limited`, with Retry-After)'),
} as const;

export const pick = <K extends keyof typeof errors>(...codes: K[]) =>
  Object.fromEntries(codes.map((k) => [k, errors[k]])) as Pick<typeof errors, K>;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** Any one of the relay's credentials (SPEC: Authentication); the HMAC headers go together. */
export const credentials: Record<string, string[]>[] = [
  { apiKey: [] },
  { jwt: [] },
  { hmacAgentId: [], hmacTimestamp: [], hmacSignature: [] },
];

export const AgentParam = z.object({
  id: agentId.openapi({ param: { name: 'id', in: 'path' }, example: 'storage.pg' }),
});

/**
 * A message id in a path. One that is not a message id names no message, so it is 404 `not_found`
 * like any unknown id, not 422: the path is an address, not input to validate.
 */
export const MessagePathId = z
  .string()
  .superRefine((value, ctx) => {
    if (!messageId.safeParse(value).success) {
      ctx.addIssue({
        code: 'custom',
        message: `message ${value} was not found`,
        params: { code: 'not_found' },
      });
    }
  })
  .openapi({ param: { name: 'mid', in: 'path' }, description: 'The message id (a UUID)' });

export const MessageParams = AgentParam.extend({ mid: MessagePathId });

export const leaseIdQuery = z
  .string()
  .uuid('must be the lease_id PULL returned')
  .optional()
  .openapi({ param: { name: 'lease_id', in: 'query' } });

/** Query parameters arrive as text; whole seconds within a range. */
export const secondsQuery = (name: string, max: number) =>
  z.coerce
    .number()
    .int(`${name} must be a whole number of seconds`)
    .min(1)
    .max(max)
    .openapi({ param: { name, in: 'query' } });

/** `?delay=`: seconds before a message may be pulled or pushed (SPEC: Dead letters, delay, cancel). */
export const delayQuery = z.coerce
  .number()
  .int('delay must be a whole number of seconds')
  .min(0)
  .max(MAX_TTL_SEC)
  .optional()
  .openapi({ param: { name: 'delay', in: 'query' } });

export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII')
  .optional()
  .openapi({ param: { name: 'idempotency-key', in: 'header' } });

export const tier = z
  .string()
  .regex(TIER_NAME, 'must be a tier name such as standard')
  .openapi({ example: 'standard' });

/** Tiers come from the policy file, so they are checked against it rather than the schema. */
export function requireKnownTier(policy: Policy, name: string): void {
  if (!Object.hasOwn(policy.tiers, name)) {
    const known = Object.keys(policy.tiers).join(', ');
    throw new RelayError('validation_failed', `tier: ${name} is not a tier of this relay (${known})`);
  }
}

/** `?limit=`: the page size of a listing. */
export const limitQuery = z.coerce
  .number()
  .int('limit must be a whole number')
  .min(1)
  .max(MAX_PAGE)
  .default(50)
  .openapi({ param: { name: 'limit', in: 'query' } });

/** `?cursor=`: where the previous page ended, exactly as its `next_cursor` said. */
export const cursorQuery = z
  .string()
  .max(512)
  .optional()
  .openapi({ param: { name: 'cursor', in: 'query' }, description: 'The previous page’s `next_cursor`' });
