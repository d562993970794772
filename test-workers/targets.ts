import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import worker, { type Env } from '../src/entry/worker.js';

import { envelope, sleep } from '../test/support/envelope.js';

export { envelope, sleep };

type IncomingRequest = Parameters<typeof worker.fetch>[0];

/** One way of reaching the relay inside workerd: its HTTP face and its Cron face. */
export interface Target {
  name: string;
  fetch(request: Request): Promise<Response>;
  scheduled(cron: string): Promise<void>;
}

/** src/entry/worker.ts loaded by the test runner, with the given bindings. */
function moduleTarget(name: string, bindings: Env): Target {
  return {
    name,
    async fetch(request) {
      const ctx = createExecutionContext();
      const response = await worker.fetch(request as IncomingRequest, bindings, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    },
    async scheduled(cron) {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), bindings, ctx);
      await waitOnExecutionContext(ctx);
    },
  };
}

export const TARGETS: Target[] = [
  moduleTarget('the Worker, statements over WebSocket', { ...env }),
  moduleTarget('the Worker, statements over HTTP', {
    ...env,
    NEON_HTTP_ENDPOINT: env.TEST_NEON_HTTP_ENDPOINT,
  }),
  {
    // Each call is a request of its own to another Worker, so nothing may carry over between them.
    name: 'the deploy bundle, as its own Worker',
    fetch: (request) => env.BUNDLE.fetch(request),
    async scheduled(cron) {
      await env.BUNDLE.scheduled({ cron, scheduledTime: new Date() });
    },
  },
];

export interface Reply {
  status: number;
  body: any;
}

/** Calls a target the way a client would, as the admin unless told otherwise. */
export async function call(
  target: Target,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? env.API_KEY : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const response = await target.fetch(new Request(`http://relay.test${path}`, { method, headers, body }));
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/**
 * Reads the suite's database directly, through the local proxy's SQL-over-HTTP endpoint rather
 * than the Neon driver, whose settings are global to the isolate the relay under test runs in.
 */
export async function query<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const response = await fetch(env.TEST_NEON_HTTP_ENDPOINT, {
    method: 'POST',
    headers: { 'neon-connection-string': env.DATABASE_URL },
    body: JSON.stringify({ query: text, params }),
  });
  const result = (await response.json()) as { rows: T[]; message?: string };
  if (!response.ok) throw new Error(`query failed: ${result.message}`);
  return result.rows;
}
