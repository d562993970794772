import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { constantTimeEqual } from '../auth/crypto.js';
import type { Deps } from '../deps.js';
import { notFound, RelayError } from '../errors.js';
import { inboxGauges } from '../inbox/inspect.js';
import { pick } from './common.js';

// Prometheus' text exposition format, version 0.0.4.
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['Health'],
  summary: 'Read Prometheus metrics',
  description:
    'Counters, histograms and inbox gauges in the Prometheus text format. Open unless `METRICS_TOKEN` is set; ' +
    'then send `Authorization: Bearer <METRICS_TOKEN>`. Workers keep no metrics and answer 404.',
  security: [{}, { metricsToken: [] }],
  responses: {
    200: { description: 'Prometheus text', content: { 'text/plain': { schema: z.string() } } },
    ...pick(401, 404),
  },
});

export function metricsRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>().openapi(metrics, async (c) => {
    const token = deps.config.metricsToken;
    if (token !== undefined) {
      const given = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      if (!constantTimeEqual(given, token))
        throw new RelayError('unauthorized', 'send Authorization: Bearer <METRICS_TOKEN>');
    }
    if (!deps.metrics.enabled) throw notFound('metrics on this runtime');
    const text = await deps.metrics.render(await inboxGauges(deps.db));
    return c.body(text, 200, { 'Content-Type': CONTENT_TYPE });
  });
}
