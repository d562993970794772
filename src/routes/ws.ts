import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { authenticate } from '../auth/middleware.js';
import { requireInbox } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { RelayError } from '../errors.js';
import { AgentParam, credentials, pick, secondsQuery } from './common.js';

const WS_PATH = '/v1/agents/:id/ws';

const socket = createRoute({
  method: 'get',
  path: '/v1/agents/{id}/ws',
  operationId: 'openWebSocket',
  tags: ['Realtime'],
  summary: 'Receive messages over a WebSocket',
  description:
    'Upgrades to a WebSocket. The relay sends `{"type":"welcome","session_id"}`, then each message as ' +
    '`{"type":"message","message":<as PULL>}`, leased for `visibility_timeout` seconds, and `{"type":"ping"}` ' +
    'every heartbeat. The client sends `{"type":"ack","message_id"}`, `{"type":"nack","message_id","extend"?}` ' +
    'and `{"type":"pong"}`. Credentials go in headers, or as `?token=<api key or JWT>` where headers cannot ' +
    'be set (browsers). See docs/realtime.md for close codes and limits.',
  security: [...credentials, {}],
  request: {
    params: AgentParam,
    query: z.object({
      visibility_timeout: secondsQuery('visibility_timeout', 3600).default(30),
      token: z
        .string()
        .regex(/^[\x21-\x7e]{1,4096}$/, 'must be an API key or a JWT')
        .optional()
        .openapi({ param: { name: 'token', in: 'query' } }),
    }),
  },
  responses: {
    101: { description: 'Switching Protocols: the socket is open' },
    426: { description: 'Not a WebSocket upgrade request (`upgrade_required`)' },
    ...pick(401, 403, 422, 429),
  },
});

export function socketRoutes(deps: Deps) {
  const app = new OpenAPIHono<AppEnv>();
  app.use(
    WS_PATH,
    authenticate(deps, (c) => c.req.query('token')),
  );
  return app.openapi(socket, async (c) => {
    const { id } = c.req.valid('param');
    requireInbox(c.get('principal'), id);
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new RelayError('upgrade_required', 'this endpoint speaks WebSocket; send an Upgrade request');
    }
    if (!deps.sockets) throw new RelayError('unavailable', 'this relay does not serve WebSockets');
    const visibilityTimeoutSec = c.req.valid('query').visibility_timeout;
    // The route's OpenAPI type knows no 101; the gateway's answer is the upgrade itself.
    return (await deps.sockets.accept(c, { agentId: id, visibilityTimeoutSec })) as never;
  });
}
