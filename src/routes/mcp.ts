import { ADMPClient } from '@agent-dispatch/client';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.js';
import { AuthFailure } from '../auth/failure.js';
import { authenticateRequest, recordFailure } from '../auth/middleware.js';
import { CARRIED_PRINCIPAL, type Principal, requireActsFor } from '../auth/principal.js';
import type { Deps } from '../deps.js';
import { RelayError } from '../errors.js';
import { createMcpServer } from '../mcp/server.js';

/** The relay's own request handler: where the tools' SDK calls go, without leaving the process. */
export type InnerFetch = (request: Request, env: object) => Response | Promise<Response>;

export const MCP_PATH = '/mcp';

/** The agent an MCP session acts as: the caller's own, or the one the admin names in `?agent=`. */
function agentOf(principal: Principal, named: string | undefined): string {
  const agentId = named ?? (principal.kind === 'agent' ? principal.agentId : undefined);
  if (!agentId)
    throw new RelayError('validation_failed', 'with the admin key, name the agent: /mcp?agent=<id>');
  requireActsFor(principal, agentId);
  return agentId;
}

/**
 * `POST /mcp`: MCP over Streamable HTTP, stateless (each request is a session of its own, so any
 * relay process, or a Worker, can answer it). The tools use the JS SDK as the stdio server does,
 * but its requests go straight to this app carrying the caller already authenticated here: each
 * tool call is a request to the relay's routes, with their policy, rate limits, audit and metrics.
 */
export function mcpRoutes(deps: Deps, inner: InnerFetch) {
  const routes = new Hono<AppEnv>();
  routes.post(MCP_PATH, async (c) => {
    const principal = await authenticateRequest(deps, c, { metered: false });
    let agentId: string;
    try {
      agentId = agentOf(principal, c.req.query('agent'));
    } catch (error) {
      if (error instanceof AuthFailure) recordFailure(deps, c, error);
      throw error;
    }
    const env = { [CARRIED_PRINCIPAL]: principal };
    const requestId = c.get('requestId');
    const client = new ADMPClient({
      relayUrl: new URL(c.req.url).origin,
      agentId,
      // A tool reports a refusal at once; the model decides whether to try again.
      retries: 0,
      fetch: async (input, init) => {
        const request = new Request(input, init);
        request.headers.set('x-request-id', requestId);
        return inner(request, env);
      },
    });
    const { server } = createMcpServer(client);
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      await server.close();
    }
  });
  // Stateless: no server-initiated stream to open (GET) and no session to end (DELETE).
  routes.on(['GET', 'DELETE'], MCP_PATH, () => {
    throw new RelayError('method_not_allowed', 'this relay speaks stateless MCP: POST /mcp only');
  });
  return routes;
}
