import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.js';
import { AuthFailure } from '../auth/failure.js';
import { recordFailure } from '../auth/middleware.js';
import { requireInbox } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { envelopeSchema, messageId } from '../envelope.js';
import { ERROR_STATUS, type ErrorCode, RelayError } from '../errors.js';
import { ackBatch } from '../inbox/ack.js';
import type { Outcome } from '../inbox/group-commit.js';
import { lease } from '../inbox/lease.js';
import { type SendItem, sendBatch } from '../inbox/send.js';
import { untilReady } from '../realtime/wait.js';
import { validationError } from '../validation.js';
import { AgentParam, credentials, delayQuery, json, jsonBody, pick, secondsQuery } from './common.js';
import { DeliverySchema, waitQuery } from './inbox.js';

/** The most items one batch request carries (SPEC: Batches). */
export const MAX_BATCH = 100;
/** A SEND batch may be this large as a whole; a single SEND's body limit still holds per envelope. */
export const MAX_BATCH_BYTES = 5 * 1024 * 1024;

export const SEND_BATCH_PATH = '/v1/messages/batch';

const ItemError = z.object({ code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode]), message: z.string() });

const SendBatchRequest = z
  .object({
    messages: z
      .array(
        // Each envelope is validated on its own, so one bad envelope fails alone (SPEC: Batches).
        z
          .unknown()
          // `$ref` is valid OpenAPI but not in the metadata's type.
          .openapi({ description: 'An Envelope', ...({ $ref: '#/components/schemas/Envelope' } as object) }),
      )
      .min(1)
      .max(MAX_BATCH),
  })
  .strict()
  .openapi('SendBatchRequest');

const SendBatchResponse = z
  .object({
    results: z.array(
      z.union([
        z.object({ message_id: z.string(), status: z.literal('delivered') }),
        z.object({ message_id: z.string().optional(), error: ItemError }),
      ]),
    ),
  })
  .openapi('SendBatchResponse');

const sendBatchRoute = createRoute({
  method: 'post',
  path: SEND_BATCH_PATH,
  operationId: 'sendMessageBatch',
  tags: ['Messages'],
  summary: 'Send up to 100 messages in one request',
  description:
    'Each envelope (from the caller, to any recipient) succeeds or fails exactly as its own SEND would, and the ' +
    'results come back in request order. Not a transaction: a retried identical batch returns the same ids. ' +
    '`delay` delays every message of the batch, as on a single SEND.',
  security: credentials,
  request: { query: z.object({ delay: delayQuery }), body: jsonBody(SendBatchRequest) },
  responses: {
    200: json(SendBatchResponse, 'One result per envelope, in request order'),
    ...pick(400, 415, 401, 413, 422, 429),
  },
});

const pullBatchRoute = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/inbox/pull-batch',
  operationId: 'pullMessageBatch',
  tags: ['Inbox'],
  summary: 'Lease up to 100 ready messages',
  description:
    'Leases up to `max_messages` of the oldest ready messages, each exactly as PULL would, oldest first. ' +
    'With `wait`, an empty inbox holds the request until a message arrives or the wait ends.',
  security: credentials,
  request: {
    params: AgentParam,
    query: z.object({
      max_messages: z.coerce
        .number()
        .int('max_messages must be a whole number')
        .min(1)
        .max(MAX_BATCH)
        .default(10)
        .openapi({ param: { name: 'max_messages', in: 'query' } }),
      visibility_timeout: secondsQuery('visibility_timeout', 3600).default(30),
      wait: waitQuery,
    }),
  },
  responses: {
    200: json(z.object({ messages: z.array(DeliverySchema) }).openapi('DeliveryBatch'), 'Leased messages'),
    ...pick(401, 403, 422, 429),
  },
});

const AckBatchRequest = z
  .object({
    acks: z
      .array(
        z.object({ message_id: messageId, lease_id: z.string().uuid('must be the lease_id PULL returned') }),
      )
      .min(1)
      .max(MAX_BATCH),
  })
  .strict()
  .openapi('AckBatchRequest');

const AckBatchResponse = z
  .object({
    results: z.array(
      z.union([
        z.object({ message_id: z.string(), status: z.literal('acked') }),
        z.object({ message_id: z.string(), error: ItemError }),
      ]),
    ),
  })
  .openapi('AckBatchResponse');

const ackBatchRoute = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/inbox/ack-batch',
  operationId: 'ackMessageBatch',
  tags: ['Inbox'],
  summary: 'Acknowledge up to 100 leased messages',
  description: 'Each ACK succeeds, or fails alone with `not_found` when its lease is not current.',
  security: credentials,
  request: { params: AgentParam, body: jsonBody(AckBatchRequest) },
  responses: {
    200: json(AckBatchResponse, 'One result per ACK, in request order'),
    ...pick(400, 415, 401, 403, 422, 429),
  },
});

export function batchRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(sendBatchRoute, async (c) => {
      const principal = c.get('principal');
      const requestId = c.get('requestId');
      const delaySec = c.req.valid('query').delay;
      const parsed = c.req.valid('json').messages.map((m) => envelopeSchema.safeParse(m));
      const items: SendItem[] = parsed.flatMap((p) =>
        p.success ? [{ envelope: p.data, principal, requestId, delaySec }] : [],
      );
      const sent = await sendBatch(deps, items);
      let next = 0;
      const results = parsed.map((p, i) => {
        const given = c.req.valid('json').messages[i] as { id?: unknown } | null;
        const id = typeof given?.id === 'string' ? given.id.toLowerCase() : undefined;
        if (!p.success) return failed(c, deps, validationError(p.error.issues), id);
        const outcome = sent[next++] as Outcome<{ messageId: string }>;
        return outcome.ok
          ? { message_id: outcome.value.messageId, status: 'delivered' as const }
          : failed(c, deps, outcome.error, id);
      });
      return c.json({ results }, 200);
    })
    .openapi(pullBatchRoute, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const { max_messages, visibility_timeout, wait } = c.req.valid('query');
      const take = async () => {
        const leased = await lease(deps, {
          agentId: id,
          visibilityTimeoutSec: visibility_timeout,
          max: max_messages,
          via: 'pull',
          requestId: c.get('requestId'),
        });
        return leased.length ? leased : undefined;
      };
      const messages = wait === 0 ? await take() : await untilReady(deps, id, wait, c.req.raw.signal, take);
      return c.json({ messages: messages ?? [] }, 200);
    })
    .openapi(ackBatchRoute, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const requestId = c.get('requestId');
      const { acks } = c.req.valid('json');
      const refs = acks.map((a) => ({
        agentId: id,
        messageId: a.message_id,
        leaseId: a.lease_id,
        via: 'ack' as const,
        requestId,
      }));
      const outcomes = await ackBatch(deps, refs);
      const results = outcomes.map((o, i) => {
        const message_id = (acks[i] as { message_id: string }).message_id.toLowerCase();
        return o.ok ? { message_id, status: 'acked' as const } : { message_id, ...failed(c, deps, o.error) };
      });
      return c.json({ results }, 200);
    });
}

/** One item's error as the batch reports it; an error that is not the relay's own fails the request. */
function failed(c: Context<AppEnv>, deps: Deps, error: unknown, messageId?: string) {
  if (!(error instanceof RelayError)) throw error;
  // Refusals are counted and audited per item, as the middleware does for a whole request.
  if (error instanceof AuthFailure) recordFailure(deps, c, error);
  const body = { error: { code: error.code, message: error.message } };
  return messageId === undefined ? body : { message_id: messageId, ...body };
}
