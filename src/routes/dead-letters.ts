import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { requireInbox } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { messageId } from '../envelope.js';
import { listDeadLetters, purgeDeadLetter, redrive } from '../inbox/dead-letters.js';
import {
  AgentParam,
  credentials,
  cursorQuery,
  json,
  jsonBody,
  limitQuery,
  MAX_PAGE,
  MessageParams,
  pick,
} from './common.js';
import { ListedMessageSchema } from './listed-message.js';

// Spread, not `extend`ed: extending the registered ListedMessage would publish an allOf of two
// closed objects, which no dead letter could satisfy.
const DeadLetterSchema = z
  .object({
    ...ListedMessageSchema.shape,
    status: z.literal('dead'),
    died_at: z.string().openapi({ description: 'When it died' }),
  })
  .strict()
  .openapi('DeadLetter');

const list = createRoute({
  method: 'get',
  path: '/v1/agents/{id}/dead-letters',
  operationId: 'listDeadLetters',
  tags: ['Dead letters'],
  summary: 'List an inbox’s dead letters',
  description:
    'Oldest death first, `limit` at a time; pass `next_cursor` back as `cursor` for the next page (null at the end). ' +
    '`last_error` says why each died.',
  security: credentials,
  request: { params: AgentParam, query: z.object({ limit: limitQuery, cursor: cursorQuery }) },
  responses: {
    200: json(
      z
        .object({ messages: z.array(DeadLetterSchema), next_cursor: z.string().nullable() })
        .openapi('DeadLetterPage'),
      'A page of dead letters',
    ),
    ...pick(401, 403, 422, 429),
  },
});

const RedriveRequest = z
  .union([
    z.object({ message_ids: z.array(messageId).min(1).max(MAX_PAGE) }).strict(),
    z.object({ all: z.literal(true) }).strict(),
  ])
  .openapi('RedriveRequest');

const redriveRoute = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/dead-letters/redrive',
  operationId: 'redriveDeadLetters',
  tags: ['Dead letters'],
  summary: 'Send dead letters back to the inbox',
  description:
    'The named dead letters (ids that are not dead letters of this inbox are skipped), or `all`, go back to ' +
    '`delivered` with `attempts` 0 and a fresh TTL from now, each audited as `message.redriven`. Fix what killed ' +
    'them first, or they die again.',
  security: credentials,
  request: { params: AgentParam, body: jsonBody(RedriveRequest) },
  responses: {
    200: json(z.object({ redriven: z.number().int() }).openapi('RedriveResponse'), 'How many went back'),
    ...pick(400, 415, 401, 403, 422, 429),
  },
});

const purge = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}/dead-letters/{mid}',
  operationId: 'purgeDeadLetter',
  tags: ['Dead letters'],
  summary: 'Delete a dead letter',
  description: 'For good, audited as `message.purged`. 404 unless it is a dead letter of this inbox.',
  security: credentials,
  request: { params: MessageParams },
  responses: { 204: { description: 'Deleted' }, ...pick(401, 403, 404, 429) },
});

export function deadLetterRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(list, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      return c.json(await listDeadLetters(deps, id, c.req.valid('query')), 200);
    })
    .openapi(redriveRoute, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const body = c.req.valid('json');
      const messageIds = 'message_ids' in body ? body.message_ids : null;
      const redriven = await redrive(deps, { agentId: id, messageIds, requestId: c.get('requestId') });
      return c.json({ redriven }, 200);
    })
    .openapi(purge, async (c) => {
      const { id, mid } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      await purgeDeadLetter(deps, { agentId: id, messageId: mid, requestId: c.get('requestId') });
      return c.body(null, 204);
    });
}
