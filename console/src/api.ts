import type { Session } from './session';

/** An error as the relay rendered it (SPEC "Errors"), or a failure to reach the relay at all. */
export class RelayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Message {
  id: string;
  type: string;
  from: string;
  to: string;
  subject: string;
  body: Record<string, unknown>;
  timestamp: string;
  correlation_id?: string | null;
  headers?: Record<string, unknown> | null;
  ttl_sec?: number;
  status: string;
  attempts: number;
  created_at?: string;
  available_at?: string | null;
  lease_until?: string | null;
  acked_at?: string | null;
  last_error?: string | null;
  died_at?: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AgentSummary {
  agent_id: string;
  online?: boolean;
  last_seen: string | null;
}

export interface InboxStats {
  ready: number;
  leased: number;
  dead: number;
  oldest_age_sec: number | null;
}

export type Envelope = Omit<Message, 'status' | 'attempts'>;

const path = encodeURIComponent;

async function errorOf(response: Response): Promise<RelayError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message) {
      return new RelayError(response.status, body.error.code ?? 'error', body.error.message);
    }
  } catch {}
  return new RelayError(
    response.status,
    'http_error',
    `the relay answered ${response.status} ${response.statusText}`,
  );
}

/** The relay's API as the signed-in person; every call carries the key in the Authorization header. */
export class Relay {
  constructor(readonly session: Session) {}

  async request(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.session.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
        cache: 'no-store',
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RelayError(0, 'unreachable', `cannot reach the relay: ${(error as Error).message}`);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  private async json<T>(method: string, url: string, body?: unknown): Promise<T> {
    const response = await this.request(method, url, body);
    return response.status === 204 ? (undefined as T) : ((await response.json()) as T);
  }

  agent(id: string) {
    return this.json<AgentSummary>('GET', `/v1/agents/${path(id)}`);
  }

  async agents(cursor?: string | null): Promise<Page<AgentSummary>> {
    const query = cursor ? `?cursor=${path(cursor)}` : '';
    const page = await this.json<{ agents: AgentSummary[]; next_cursor?: string | null }>(
      'GET',
      `/v1/agents${query}`,
    );
    return { items: page.agents, nextCursor: page.next_cursor ?? null };
  }

  async messages(
    agentId: string,
    options: { direction: 'inbox' | 'sent'; status?: string; cursor?: string | null },
  ): Promise<Page<Message>> {
    const query = new URLSearchParams({ direction: options.direction, limit: '50' });
    if (options.status) query.set('status', options.status);
    if (options.cursor) query.set('cursor', options.cursor);
    const page = await this.json<{ messages: Message[]; next_cursor: string | null }>(
      'GET',
      `/v1/agents/${path(agentId)}/messages?${query}`,
    );
    return { items: page.messages, nextCursor: page.next_cursor };
  }

  async thread(correlationId: string): Promise<Message[]> {
    return (await this.json<{ messages: Message[] }>('GET', `/v1/threads/${path(correlationId)}`)).messages;
  }

  status(messageId: string) {
    return this.json<Message>('GET', `/v1/messages/${path(messageId)}/status`);
  }

  stats(agentId: string) {
    return this.json<InboxStats>('GET', `/v1/agents/${path(agentId)}/inbox/stats`);
  }

  async deadLetters(agentId: string, cursor?: string | null): Promise<Page<Message>> {
    const query = new URLSearchParams({ limit: '50' });
    if (cursor) query.set('cursor', cursor);
    const page = await this.json<{ messages: Message[]; next_cursor: string | null }>(
      'GET',
      `/v1/agents/${path(agentId)}/dead-letters?${query}`,
    );
    return { items: page.messages, nextCursor: page.next_cursor };
  }

  async redrive(agentId: string, which: { message_ids: string[] } | { all: true }): Promise<number> {
    const url = `/v1/agents/${path(agentId)}/dead-letters/redrive`;
    return (await this.json<{ redriven: number }>('POST', url, which)).redriven;
  }

  async purge(agentId: string, messageId: string): Promise<void> {
    await this.json('DELETE', `/v1/agents/${path(agentId)}/dead-letters/${path(messageId)}`);
  }

  async cancel(messageId: string): Promise<void> {
    await this.json('DELETE', `/v1/messages/${path(messageId)}`);
  }

  /** SENDs a new message from `agentId`, stamped now with a fresh id; `to` is a bare id or a URI. */
  async send(
    agentId: string,
    message: Pick<Envelope, 'type' | 'to' | 'subject' | 'body' | 'correlation_id'>,
  ): Promise<string> {
    const to = message.to.replace(/^agent:\/\//, '');
    const envelope: Envelope = {
      ...message,
      id: crypto.randomUUID(),
      from: `agent://${agentId}`,
      to: `agent://${to}`,
      timestamp: new Date().toISOString(),
    };
    const url = `/v1/agents/${path(to)}/messages`;
    return (await this.json<{ message_id: string }>('POST', url, envelope)).message_id;
  }
}
