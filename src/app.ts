import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import type { AppEnv } from './app-env.js';
import { authenticate } from './auth/middleware.js';
import type { Deps } from './deps.js';
import { MAX_BODY_BYTES } from './envelope.js';
import { RelayError, renderError } from './errors.js';
import { errorTrace } from './observe/error-text.js';
import { agentRoutes } from './routes/agents.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { batchRoutes, MAX_BATCH_BYTES, SEND_BATCH_PATH } from './routes/batches.js';
import { broadcastRoutes } from './routes/broadcast.js';
import { browseRoutes } from './routes/browse.js';
import { consoleRoutes } from './routes/console.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { type DocsAssets, docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { inboxRoutes } from './routes/inbox.js';
import { keyDirectoryRoutes, signingKeyRoutes } from './routes/keys.js';
import { mcpRoutes } from './routes/mcp.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { operationOf } from './routes/operations.js';
import { registerSecuritySchemes } from './routes/security-schemes.js';
import { sessionRoutes } from './routes/sessions.js';
import { API_TAGS } from './routes/tags.js';
import { socketRoutes } from './routes/ws.js';
import { validationHook } from './validation.js';
import { VERSION } from './version.js';

// A body of exactly the limit plus a generous envelope around it; anything larger is refused
// before it is read into memory.
const MAX_REQUEST_BYTES = MAX_BODY_BYTES + 256 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'ADMP relay',
    version: VERSION,
    description:
      'Agent Dispatch Messaging Protocol: a durable inbox per agent, one JSON envelope per message, ' +
      'at-least-once delivery with leases, acks, retries and dead letters.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  // Relative: whatever host serves the document (so /docs' "Try it out" calls that relay).
  servers: [{ url: '/', description: 'The relay serving this document' }],
  tags: API_TAGS,
};

export interface AppOptions {
  /** Swagger UI's files, served at /docs/assets; without them /docs loads them from jsDelivr. */
  docsAssets?: DocsAssets;
}

/** The relay as one Hono app, free of any runtime: entry files build `deps` and hand it requests. */
export function createApp(deps: Deps, options: AppOptions = {}) {
  const startedAt = deps.clock.now();
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    await next();
  });
  const limitTo = (maxSize: number): MiddlewareHandler<AppEnv> => {
    const refuse = () => {
      throw new RelayError('payload_too_large', `requests may be at most ${maxSize} bytes`);
    };
    const counted = bodyLimit({ maxSize, onError: refuse });
    // Hono's bodyLimit asks for the body stream even to read Content-Length, and on Node that
    // builds a WHATWG Request and a web stream for every request. A declared length (or a GET)
    // is judged here; only a chunked body is counted as it streams.
    return (c, next) => {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
      const declared = c.req.header('content-length');
      if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return counted(c, next);
      return Number(declared) > maxSize ? refuse() : next();
    };
  };
  const requestLimit = limitTo(MAX_REQUEST_BYTES);
  const batchLimit = limitTo(MAX_BATCH_BYTES);
  app.use((c, next) => (c.req.path === SEND_BATCH_PATH ? batchLimit : requestLimit)(c, next));

  // Without metrics, nothing to time: the request path stays as it was.
  if (deps.metrics.enabled) {
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      deps.metrics.requestFinished(
        operationOf(c.req.method, routePath(c)),
        c.res.status,
        (performance.now() - started) / 1000,
      );
    });
  }

  app.route('/', healthRoutes(deps, startedAt));
  app.route('/', metricsRoutes(deps));
  app.get('/openapi.json', (c) => c.json(openApiDocument(app)));
  app.route('/', docsRoutes(options.docsAssets));
  app.route('/', consoleRoutes());
  // Public, so mounted before /v1's authentication, which Hono applies to every later route.
  app.route('/', keyDirectoryRoutes(deps));
  // Before /v1's authentication too: it authenticates itself, and alone accepts ?token=.
  app.route('/', socketRoutes(deps));
  // Authenticates itself too; its tools call the routes below through `app.fetch`.
  app.route(
    '/',
    mcpRoutes(deps, (request, env) => app.fetch(request, env)),
  );

  const v1 = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  v1.use(authenticate(deps));
  v1.route('/', agentRoutes(deps));
  v1.route('/', apiKeyRoutes(deps));
  v1.route('/', signingKeyRoutes(deps));
  v1.route('/', messageRoutes(deps));
  v1.route('/', inboxRoutes(deps));
  v1.route('/', sessionRoutes(deps));
  v1.route('/', broadcastRoutes(deps));
  v1.route('/', batchRoutes(deps));
  v1.route('/', deadLetterRoutes(deps));
  v1.route('/', browseRoutes(deps));
  v1.route('/', eventRoutes(deps));
  app.route('/', v1);

  registerSecuritySchemes(app);

  app.notFound((c) =>
    c.json(renderError('not_found', `no route for ${c.req.method} ${c.req.path}`, c.get('requestId')), 404),
  );

  app.onError((error, c) => {
    const requestId = c.get('requestId');
    if (error instanceof RelayError) {
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json(renderError(error.code, error.message, requestId), error.status);
    }
    // Hono's own refusals, before a handler runs: unreadable JSON and a body that is not JSON.
    if (error instanceof HTTPException && error.status === 400) {
      return c.json(renderError('invalid_json', 'the request body is not valid JSON', requestId), 400);
    }
    if (error instanceof HTTPException && error.status === 415) {
      const message = 'send a JSON body with Content-Type: application/json';
      return c.json(renderError('unsupported_media_type', message, requestId), 415);
    }
    deps.logger.error({ err: errorTrace(error), request_id: requestId }, 'unhandled error');
    return c.json(renderError('internal_error', 'the relay failed to handle this request', requestId), 500);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  return app.getOpenAPI31Document(OPENAPI_INFO);
}
