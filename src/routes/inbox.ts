import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { requireInbox } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { envelopeSchema } from '../envelope.js';
import { inboxStats } from '../inbox/inspect.js';
import { leaseOne } from '../inbox/lease.js';
import { reclaim as reclaimLeases } from '../inbox/sweeper.js';
import { MAX_WAIT_SEC, untilReady } from '../realtime/wait.js';
import { AgentParam, credentials, json, pick, secondsQuery } from './common.js';

export const waitQuery = z.coerce
  .number()
  .int('wait must be a whole number of seconds')
  .min(0)
  .max(MAX_WAIT_SEC)
  .default(0)
  .openapi({ param: { name: 'wait', in: 'query' } });

// The Envelope's fields as a schema of its own, like BroadcastEnvelope: extending the registered
// (closed) Envelope would publish an allOf that refuses the lease fields it adds.
export const DeliverySchema = z
  .object({
    ...envelopeSchema.shape,
    version: z.string(),
    ttl_sec: z.number().int(),
    status: z.literal('leased'),
    lease_until: z.string(),
    lease_id: z.string(),
    attempts: z.number().int(),
  })
  .strict()
  .openapi('Delivery');

const pull = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/inbox/pull',
  operationId: 'pullMessage',
  tags: ['Inbox'],
  summary: 'Pull the next message',
  description:
    'Leases the oldest ready message for `visibility_timeout` seconds (default 30, at most 3600). ' +
    'Keep the returned `lease_id` and pass it to ACK, NACK and REPLY. With `wait` (seconds, at most 20) ' +
    'an empty inbox holds the request until a message arrives or the wait ends. 204 when the inbox is empty.',
  security: credentials,
  request: {
    params: AgentParam,
    query: z.object({
      visibility_timeout: secondsQuery('visibility_timeout', 3600).default(30),
      wait: waitQuery,
    }),
  },
  responses: {
    200: json(DeliverySchema, 'A leased message: the envelope’s fields plus the lease'),
    204: { description: 'The inbox has no ready message (at the end of the wait, with `wait`)' },
    ...pick(401, 403, 422, 429),
  },
});

const StatsSchema = z
  .object({
    ready: z.number().int(),
    leased: z.number().int(),
    dead: z.number().int(),
    oldest_age_sec: z.number(),
  })
  .openapi('InboxStats');

const stats = createRoute({
  method: 'get',
  path: '/v1/agents/{id}/inbox/stats',
  operationId: 'getInboxStats',
  tags: ['Inbox'],
  summary: 'Count an inbox’s messages',
  security: credentials,
  request: { params: AgentParam },
  responses: { 200: json(StatsSchema, 'Counts'), ...pick(401, 403, 422, 429) },
});

const reclaim = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/inbox/reclaim',
  operationId: 'reclaimLeases',
  tags: ['Inbox'],
  summary: 'Reclaim expired leases',
  description: 'Expired leases go back to ready with one more attempt, or to dead once attempts run out.',
  security: credentials,
  request: { params: AgentParam },
  responses: {
    200: json(z.object({ reclaimed: z.number().int() }), 'How many leases were reclaimed'),
    ...pick(401, 403, 422, 429),
  },
});

export function inboxRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>()
    .openapi(pull, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const { visibility_timeout, wait } = c.req.valid('query');
      const request = {
        agentId: id,
        visibilityTimeoutSec: visibility_timeout,
        requestId: c.get('requestId'),
      };
      const take = () => leaseOne(deps, { ...request, via: 'pull' });
      const delivery = wait === 0 ? await take() : await untilReady(deps, id, wait, c.req.raw.signal, take);
      return delivery ? c.json(delivery, 200) : c.body(null, 204);
    })
    .openapi(stats, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      return c.json(await inboxStats(deps.db, id), 200);
    })
    .openapi(reclaim, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      return c.json({ reclaimed: await reclaimLeases(deps, id) }, 200);
    });
}
