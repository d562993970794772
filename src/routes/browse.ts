import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { requireActsFor } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { text } from '../envelope.js';
import { listMessages, MAX_THREAD, thread } from '../inbox/browse.js';
import { MESSAGE_STATES } from '../message-states.js';
import { AgentParam, credentials, cursorQuery, json, limitQuery, pick } from './common.js';
import { ListedMessageSchema } from './listed-message.js';

const list = createRoute({
  method: 'get',
  path: '/v1/agents/{id}/messages',
  operationId: 'listMessages',
  tags: ['Browsing'],
  summary: 'List an agent’s inbox or sent messages',
  description:
    'Newest first, optionally in one `status`, `limit` at a time; pass `next_cursor` back as `cursor` for the ' +
    'next page (null at the end). Never leases anything. The agent itself or the admin.',
  security: credentials,
  request: {
    params: AgentParam,
    query: z.object({
      direction: z
        .enum(['inbox', 'sent'])
        .default('inbox')
        .openapi({ param: { name: 'direction', in: 'query' } }),
      status: z
        .enum(MESSAGE_STATES)
        .optional()
        .openapi({ param: { name: 'status', in: 'query' } }),
      limit: limitQuery,
      cursor: cursorQuery,
    }),
  },
  responses: {
    200: json(
      z
        .object({ messages: z.array(ListedMessageSchema), next_cursor: z.string().nullable() })
        .openapi('MessagePage'),
      'A page of messages',
    ),
    ...pick(401, 403, 422, 429),
  },
});

const threadRoute = createRoute({
  method: 'get',
  path: '/v1/threads/{correlation_id}',
  operationId: 'getThread',
  tags: ['Browsing'],
  summary: 'Get a conversation',
  description:
    'The message whose id is `correlation_id` and every message carrying it, oldest first (at most ' +
    `${MAX_THREAD}), limited to those the caller sent or received (the admin sees all). 404 when the caller sees none.`,
  security: credentials,
  request: {
    params: z.object({
      correlation_id: text(255).openapi({ param: { name: 'correlation_id', in: 'path' } }),
    }),
  },
  responses: {
    200: json(z.object({ messages: z.array(ListedMessageSchema) }).openapi('Thread'), 'The thread'),
    ...pick(401, 404, 422, 429),
  },
});

export function browseRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(list, async (c) => {
      const { id } = c.req.valid('param');
      requireActsFor(c.get('principal'), id);
      const { direction, status, limit, cursor } = c.req.valid('query');
      return c.json(await listMessages(deps, { agentId: id, direction, status, limit, cursor }), 200);
    })
    .openapi(threadRoute, async (c) => {
      const principal = c.get('principal');
      const party = principal.kind === 'admin' ? null : principal.agentId;
      return c.json({ messages: await thread(deps, c.req.valid('param').correlation_id, party) }, 200);
    });
}
