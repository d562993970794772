import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { actsFor, requireInbox } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { agentOf, envelopeSchema, text } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';
import { ack as ackOne } from '../inbox/ack.js';
import { cancel as cancelOne } from '../inbox/cancel.js';
import { messageStatus } from '../inbox/inspect.js';
import { nack as nackMessage } from '../inbox/nack.js';
import { reply as replyTo } from '../inbox/reply.js';
import { send as sendOne } from '../inbox/send.js';
import { MESSAGE_STATES } from '../message-states.js';
import {
  AgentParam,
  credentials,
  delayQuery,
  idempotencyKeyHeader,
  json,
  jsonBody,
  leaseIdQuery,
  MessageParams,
  MessagePathId,
  pick,
  secondsQuery,
} from './common.js';

const SendResponse = z
  .object({ message_id: z.string(), status: z.literal('delivered') })
  .openapi('SendResponse');

const send = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/messages',
  operationId: 'sendMessage',
  tags: ['Messages'],
  summary: 'Send a message',
  description:
    'Stores the envelope durably before answering. `from` must be the calling agent and `to` the path’s agent. ' +
    'A `signature` must verify under an active Ed25519 key of the sender, and a sender that requires signatures ' +
    'must sign (403 `invalid_signature`). A repeated `Idempotency-Key` for the same recipient, or an identical envelope within 10 minutes, returns the first id. ' +
    'With `delay` (seconds, at most the message’s `ttl_sec`), the message is stored at once but not pulled, pushed ' +
    'or counted ready before its `available_at`.',
  security: credentials,
  request: {
    params: AgentParam,
    query: z.object({ delay: delayQuery }),
    headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
    body: jsonBody(envelopeSchema),
  },
  responses: {
    201: json(SendResponse, 'Stored; `message_id` is the envelope id (or the first id for a repeat)'),
    ...pick(400, 415, 401, 403, 404, 409, 413, 422, 429),
  },
});

const NackResponse = z
  .object({
    status: z.enum(MESSAGE_STATES),
    lease_until: z.string().nullable().optional(),
    attempts: z.number().int(),
  })
  .openapi('NackResponse');

const ack = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/messages/{mid}/ack',
  operationId: 'ackMessage',
  tags: ['Messages'],
  summary: 'Acknowledge a message',
  security: credentials,
  request: { params: MessageParams, query: z.object({ lease_id: leaseIdQuery }) },
  responses: {
    200: json(z.object({ status: z.literal('acked') }), 'Acked'),
    ...pick(401, 403, 404, 422, 429),
  },
});

const nack = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/messages/{mid}/nack',
  operationId: 'nackMessage',
  tags: ['Messages'],
  summary: 'Give a message back or extend its lease',
  description:
    'With `extend`, the lease runs until max(lease_until, now) + extend. Without it, the message is ready again ' +
    'with one more attempt counted, or dead once attempts reach max_attempts; with `delay`, ready again only ' +
    '`delay` seconds later (back-off). `extend` and `delay` do not go together.',
  security: credentials,
  request: {
    params: MessageParams,
    query: z.object({
      lease_id: leaseIdQuery,
      extend: secondsQuery('extend', 43_200).optional(),
      delay: delayQuery,
      reason: text(255)
        .optional()
        .openapi({ param: { name: 'reason', in: 'query' } }),
    }),
  },
  responses: { 200: json(NackResponse, 'Lease extended or released'), ...pick(401, 403, 404, 422, 429) },
});

const ReplyBody = z
  .union([
    z.object({ result: z.record(z.string(), z.unknown()) }).strict(),
    z.object({ error: z.object({ code: text(128), message: text(4096) }).strict() }).strict(),
  ])
  .openapi('ReplyRequest');

const reply = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/messages/{mid}/reply',
  operationId: 'replyToMessage',
  tags: ['Messages'],
  summary: 'Reply to a message',
  description:
    'Sends `task.result` (`{result}`) or `task.error` (`{error:{code,message}}`) to the original sender with the ' +
    'original’s correlation id (or its id), and acks the original, atomically.',
  security: credentials,
  request: {
    params: MessageParams,
    query: z.object({ lease_id: leaseIdQuery }),
    headers: z.object({ 'idempotency-key': idempotencyKeyHeader }),
    body: jsonBody(ReplyBody),
  },
  responses: {
    200: json(z.object({ message_id: z.string() }), 'The reply’s id'),
    ...pick(400, 415, 401, 403, 404, 409, 413, 422, 429),
  },
});

const StatusSchema = z
  .object({
    id: z.string(),
    status: z.enum(MESSAGE_STATES),
    from: z.string(),
    to: z.string(),
    attempts: z.number().int(),
    created_at: z.string(),
    lease_until: z.string().nullable(),
    acked_at: z.string().nullable(),
    last_error: z.string().nullable(),
    available_at: z.string().openapi({ description: 'When it is (or was) ready to pull; later for a delay' }),
  })
  .openapi('MessageStatus');

const status = createRoute({
  method: 'get',
  path: '/v1/messages/{mid}/status',
  operationId: 'getMessageStatus',
  tags: ['Messages'],
  summary: 'Get a message’s status',
  description: 'Visible to its sender, its recipient and the admin; anyone else gets 404.',
  security: credentials,
  request: { params: z.object({ mid: MessagePathId }) },
  responses: { 200: json(StatusSchema, 'Status'), ...pick(401, 404, 429) },
});

const cancel = createRoute({
  method: 'delete',
  path: '/v1/messages/{mid}',
  operationId: 'cancelMessage',
  tags: ['Messages'],
  summary: 'Cancel a message not yet taken',
  description:
    'By its sender or the admin, while the message is `delivered` (waiting, delayed or not): it becomes ' +
    '`cancelled` and is never delivered. 409 `invalid_state` once it is leased or finished; 404 to anyone else. ' +
    'A cancel racing a PULL either wins (nobody ever gets the message) or gets 409 (the PULL got it), never both.',
  security: credentials,
  request: { params: z.object({ mid: MessagePathId }) },
  responses: {
    200: json(z.object({ status: z.literal('cancelled') }), 'Cancelled'),
    ...pick(401, 404, 409, 429),
  },
});

export function messageRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(send, async (c) => {
      const to = c.req.valid('param').id;
      const envelope = c.req.valid('json');
      if (agentOf(envelope.to) !== to) {
        throw new RelayError('validation_failed', `to: must be agent://${to}, the agent in the path`);
      }
      const result = await sendOne(deps, {
        envelope,
        principal: c.get('principal'),
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        delaySec: c.req.valid('query').delay,
        requestId: c.get('requestId'),
      });
      return c.json({ message_id: result.messageId, status: 'delivered' as const }, 201);
    })
    .openapi(ack, async (c) => {
      const { id, mid } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const leaseId = c.req.valid('query').lease_id;
      await ackOne(deps, { agentId: id, messageId: mid, leaseId, via: 'ack', requestId: c.get('requestId') });
      return c.json({ status: 'acked' as const }, 200);
    })
    .openapi(nack, async (c) => {
      const { id, mid } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const { lease_id, extend, delay, reason } = c.req.valid('query');
      if (extend !== undefined && delay !== undefined) {
        throw new RelayError(
          'validation_failed',
          'extend and delay: keep the lease or give it back, not both',
        );
      }
      const result = await nackMessage(deps, {
        agentId: id,
        messageId: mid,
        leaseId: lease_id,
        extendSec: extend,
        delaySec: delay,
        reason,
        requestId: c.get('requestId'),
      });
      const { lease_until, ...rest } = result;
      return c.json({ ...rest, ...(lease_until === null ? {} : { lease_until }) }, 200);
    })
    .openapi(reply, async (c) => {
      const { id, mid } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const messageId = await replyTo(deps, {
        agentId: id,
        messageId: mid,
        leaseId: c.req.valid('query').lease_id,
        content: c.req.valid('json'),
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        requestId: c.get('requestId'),
      });
      return c.json({ message_id: messageId }, 200);
    })
    .openapi(status, async (c) => {
      const { mid } = c.req.valid('param');
      const principal = c.get('principal');
      const found = await messageStatus(deps.db, mid);
      // Someone who is neither party learns nothing, not even that the id exists.
      if (!found || !(actsFor(principal, agentOf(found.from)) || actsFor(principal, agentOf(found.to)))) {
        throw notFound(`message ${mid}`);
      }
      return c.json(found, 200);
    })
    .openapi(cancel, async (c) => {
      const principal = c.get('principal');
      const senderId = principal.kind === 'admin' ? null : principal.agentId;
      await cancelOne(deps, { messageId: c.req.valid('param').mid, senderId, requestId: c.get('requestId') });
      return c.json({ status: 'cancelled' as const }, 200);
    });
}
