import { type ServerType, serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { createDeps } from '../../src/deps.js';
import { type Logger, silentLogger } from '../../src/observe/logger.js';
import { createNodeMetrics } from '../../src/observe/node-metrics.js';
import { defaultPolicy, parsePolicy } from '../../src/policy/load.js';
import { NodeGateway } from '../../src/realtime/node-gateway.js';
import { PgHub } from '../../src/realtime/node-hub.js';
import { envelope, sleep } from './envelope.js';
import { conformanceProblems } from './openapi-conformance.js';
import { parsePrometheus } from './prometheus.js';
import { openTestDatabase } from './test-database.js';

export { envelope, sleep };

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Agent {
  id: string;
  apiKey: string;
  hmacSecret: string;
}

/**
 * The relay app in-process on a fresh database, called through `app.request` exactly as the
 * HTTP server would call it, with helpers for the steps most tests share. `policy` is the
 * policy file's YAML text.
 */
export async function startTestRelay(
  env: Record<string, string> = {},
  options: { policy?: string; logger?: Logger; listen?: boolean } = {},
) {
  const { database, url } = await openTestDatabase();
  const config = parseConfig({ NODE_ENV: 'test', API_KEY: ADMIN_KEY, ...env });
  // With `listen`, a real HTTP server with WebSockets, and on PostgreSQL the LISTEN/NOTIFY hub.
  let gateway: NodeGateway | undefined;
  // What SIGTERM aborts in a relay process: waiting long polls and event streams end.
  const stopping = new AbortController();
  const hub =
    options.listen && url
      ? await PgHub.start({ url, logger: silentLogger, debounceMs: config.notifyDebounceMs })
      : undefined;
  const deps = createDeps({
    config,
    db: database.db,
    run: database.run,
    logger: options.logger ?? silentLogger,
    policy: options.policy === undefined ? defaultPolicy() : parsePolicy(options.policy),
    // Its own clock, so a test may move time for this relay alone.
    clock: { now: () => Date.now() },
    hub,
    stopping: stopping.signal,
    sockets: (d) => {
      gateway = new NodeGateway(d);
      return gateway;
    },
    metrics: createNodeMetrics({ maxSeries: config.metricsMaxSeries, processMetrics: false }),
  });
  const app = createApp(deps);
  let server: ServerType | undefined;
  let baseUrl = '';
  if (options.listen) {
    const websocket = { server: new WebSocketServer({ noServer: true }) };
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', websocket }, (info) =>
        resolve(info.port),
      );
    });
    baseUrl = `http://127.0.0.1:${port}`;
  }

  async function call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? ADMIN_KEY : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await app.request(path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    const problems = conformanceProblems({
      method,
      url: path,
      requestBody: body,
      status: response.status,
      responseBody: parsed,
      responseType: response.headers.get('content-type'),
    });
    if (problems.length > 0) throw new Error(`differs from spec/openapi.json:\n${problems.join('\n')}`);
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  async function registerAgent(id: string, tier?: string): Promise<Agent> {
    const r = await call('POST', '/v1/agents', { body: { agent_id: id, ...(tier ? { tier } : {}) } });
    if (r.status !== 201) throw new Error(`register ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return { id, apiKey: r.body.api_key, hmacSecret: r.body.hmac_secret };
  }

  const send = (
    from: Agent,
    to: string,
    overrides: Record<string, unknown> = {},
    headers?: Record<string, string>,
  ) =>
    call('POST', `/v1/agents/${to}/messages`, {
      token: from.apiKey,
      body: envelope(from.id, to, overrides),
      ...(headers ? { headers } : {}),
    });

  const pull = (agent: Agent, query = '') =>
    call('POST', `/v1/agents/${agent.id}/inbox/pull${query}`, { token: agent.apiKey });

  const ack = (agent: Agent, messageId: string, leaseId?: string) =>
    call('POST', `/v1/agents/${agent.id}/messages/${messageId}/ack${leaseId ? `?lease_id=${leaseId}` : ''}`, {
      token: agent.apiKey,
    });

  const nack = (agent: Agent, messageId: string, query = '') =>
    call('POST', `/v1/agents/${agent.id}/messages/${messageId}/nack${query}`, { token: agent.apiKey });

  const stats = async (agent: Agent) =>
    (await call('GET', `/v1/agents/${agent.id}/inbox/stats`, { token: agent.apiKey })).body;

  /** GET /metrics, parsed. */
  const metrics = async () => {
    const r = await call<string>('GET', '/metrics', { token: null });
    if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
    return parsePrometheus(r.body);
  };

  return {
    app,
    deps,
    db: database.db,
    url,
    call,
    registerAgent,
    send,
    pull,
    ack,
    nack,
    stats,
    /** `http://127.0.0.1:<port>` when started with `listen`. */
    baseUrl,
    gateway: () => gateway,
    metrics,
    /** Begins a shutdown as SIGTERM would, without closing anything. */
    stop: () => stopping.abort(),
    close: async () => {
      gateway?.closeAll();
      if (server) await new Promise((resolve) => server?.close(resolve));
      await deps.hub.close();
      await deps.audit.flush();
      await database.close();
    },
  };
}

export type TestRelay = Awaited<ReturnType<typeof startTestRelay>>;
