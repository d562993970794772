import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { requireInbox } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import { closeSession, heartbeatSession, openSession } from '../realtime/sessions.js';
import { AgentParam, credentials, json, pick } from './common.js';

const SessionSchema = z
  .object({
    session_id: z.string().uuid(),
    heartbeat_interval_sec: z.number().int(),
    expires_at: z.string(),
  })
  .openapi('Session');

const SessionParams = AgentParam.extend({
  sid: z
    .string()
    .uuid('must be the session_id the relay returned')
    .openapi({ param: { name: 'sid', in: 'path' } }),
});

const register = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/sessions',
  operationId: 'openSession',
  tags: ['Realtime'],
  summary: 'Open a session',
  description:
    'Returns a new, unique `session_id`. Send a heartbeat every `heartbeat_interval_sec`; a session that ' +
    'misses two expires, and an agent without a live session (or open WebSocket) is offline and receives ' +
    'no broadcasts. Every session call updates the agent’s `last_seen`.',
  security: credentials,
  request: { params: AgentParam },
  responses: { 201: json(SessionSchema, 'The session'), ...pick(401, 403, 404, 422, 429) },
});

const heartbeat = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/sessions/{sid}/heartbeat',
  operationId: 'heartbeatSession',
  tags: ['Realtime'],
  summary: 'Keep a session alive',
  description: 'Moves `expires_at` to two heartbeat intervals from now. 404 once the session has expired.',
  security: credentials,
  request: { params: SessionParams },
  responses: { 200: json(SessionSchema, 'The session, extended'), ...pick(401, 403, 404, 422, 429) },
});

const deregister = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}/sessions/{sid}',
  operationId: 'closeSession',
  tags: ['Realtime'],
  summary: 'End a session',
  security: credentials,
  request: { params: SessionParams },
  responses: { 204: { description: 'Ended' }, ...pick(401, 403, 404, 422, 429) },
});

export function sessionRoutes(deps: Deps) {
  const { db, config } = deps;
  const heartbeatSec = config.heartbeatIntervalSec;
  return new OpenAPIHono<AppEnv>()
    .openapi(register, async (c) => {
      const { id } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const session = await openSession(db, id, heartbeatSec);
      if (!session) throw notFound(`agent ${id}`);
      return c.json({ ...session, heartbeat_interval_sec: heartbeatSec }, 201);
    })
    .openapi(heartbeat, async (c) => {
      const { id, sid } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      const session = await heartbeatSession(db, id, sid, heartbeatSec);
      if (!session) throw notFound(`a live session ${sid} of ${id}`);
      return c.json({ ...session, heartbeat_interval_sec: heartbeatSec }, 200);
    })
    .openapi(deregister, async (c) => {
      const { id, sid } = c.req.valid('param');
      requireInbox(c.get('principal'), id);
      if (!(await closeSession(db, id, sid))) throw notFound(`session ${sid} of ${id}`);
      return c.body(null, 204);
    });
}
