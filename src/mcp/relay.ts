import type { ADMPClient } from '@agent-dispatch/client';

const enc = encodeURIComponent;

/** A page of a listing, as the relay answers it: the items and the cursor of the next page. */
export type Page = Record<string, unknown> & { next_cursor?: string | null };

/**
 * What the MCP tools need of the relay: the JS SDK's client for one agent. Both transports hand
 * the tools one of these, so a tool behaves the same over stdio and over `POST /mcp`.
 */
export type McpRelay = Pick<
  ADMPClient,
  'agentId' | 'send' | 'pullBatch' | 'ack' | 'nack' | 'reply' | 'waitForReply' | 'inboxStats'
> & {
  thread(correlationId: string): Promise<Page>;
  deadLetters(options: { limit?: number; cursor?: string }): Promise<Page>;
  redrive(target: string[] | { all: true }): Promise<{ redriven: number }>;
  listAgents(options: { limit?: number; cursor?: string }): Promise<Page>;
};

function query(options: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(options)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The client's own calls, plus the operator-toolkit listings made through its transport. */
export function relayOf(client: ADMPClient): McpRelay {
  const get = async <T>(path: string) => (await client.transport.request<T>('GET', path)).body as T;
  return {
    agentId: client.agentId,
    send: (options) => client.send(options),
    pullBatch: (options) => client.pullBatch(options),
    ack: (message) => client.ack(message),
    nack: (message, options) => client.nack(message, options),
    reply: (message, response) => client.reply(message, response),
    waitForReply: (id, options) => client.waitForReply(id, options),
    inboxStats: () => client.inboxStats(),
    thread: (correlationId) => get(`/v1/threads/${enc(correlationId)}`),
    deadLetters: ({ limit, cursor }) =>
      get(`/v1/agents/${enc(client.agentId)}/dead-letters${query({ limit, cursor })}`),
    redrive: async (target) => {
      const body = Array.isArray(target) ? { message_ids: target } : target;
      const path = `/v1/agents/${enc(client.agentId)}/dead-letters/redrive`;
      return (await client.transport.request<{ redriven: number }>('POST', path, { body })).body as {
        redriven: number;
      };
    },
    listAgents: ({ limit, cursor }) => get(`/v1/agents${query({ limit, cursor })}`),
  };
}
