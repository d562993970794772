import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import type { Deps } from '../deps.js';
import { errorText } from '../observe/error-text.js';
import { json } from './common.js';

const Health = z
  .object({ status: z.enum(['healthy', 'unhealthy']), version: z.string(), uptime: z.number() })
  .openapi('Health');

const health = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  tags: ['Health'],
  summary: 'Check the relay and its database',
  security: [],
  responses: {
    200: json(Health, 'The relay and its database answer'),
    503: json(Health, 'The database cannot be reached'),
  },
});

export function healthRoutes(deps: Deps, startedAt: number) {
  return new OpenAPIHono<AppEnv>().openapi(health, async (c) => {
    const uptime = Math.floor((deps.clock.now() - startedAt) / 1000);
    try {
      await deps.ping();
      return c.json({ status: 'healthy' as const, version: deps.version, uptime }, 200);
    } catch (error) {
      deps.logger.error({ err: errorText(error) }, 'health check: database unreachable');
      return c.json({ status: 'unhealthy' as const, version: deps.version, uptime }, 503);
    }
  });
}
