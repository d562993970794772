import type { ADMPClient } from '@agent-dispatch/client';

/**
 * What the MCP tools need of the relay: the JS SDK's client for one agent. Both transports hand
 * the tools one, so a tool behaves the same over stdio and over `POST /mcp`.
 */
export type McpRelay = Pick<
  ADMPClient,
  | 'agentId'
  | 'transport'
  | 'send'
  | 'pullBatch'
  | 'ack'
  | 'nack'
  | 'reply'
  | 'waitForReply'
  | 'inboxStats'
  | 'thread'
  | 'deadLetters'
  | 'redrive'
>;

/** The relay's answer to `GET /v1/agents`: one page of agents. */
export interface AgentPage {
  agents: Record<string, unknown>[];
  next_cursor: string | null;
}

/**
 * The agents this one may send to. The SDKs leave discovery out (it is an operator's listing), so
 * it goes through the client's transport: its credentials, retries and error classes all the same.
 */
export async function listAgents(
  relay: McpRelay,
  options: { limit?: number; cursor?: string },
): Promise<AgentPage> {
  const query = new URLSearchParams();
  if (options.limit !== undefined) query.set('limit', String(options.limit));
  if (options.cursor !== undefined) query.set('cursor', options.cursor);
  const path = `/v1/agents${query.size ? `?${query}` : ''}`;
  return (await relay.transport.request<AgentPage>('GET', path)).body as AgentPage;
}
