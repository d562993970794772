// Dead letters, cancel and browsing (SPEC: Dead letters, delay, cancel; Browsing): plain requests
// that lease nothing, so they need the transport and the agent id, not the client.
import type {
  DeadLetter,
  DeadLettersOptions,
  ListMessagesOptions,
  MessageRecord,
  Page,
  RedriveTarget,
} from './browse-types.js';
import type { Transport } from './transport.js';

const enc = encodeURIComponent;

/** `?a=1&b=2` of the options given; '' when none is. */
function queryOf(options: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(options))
    if (value !== undefined) query.set(name, String(value));
  const text = query.toString();
  return text ? `?${text}` : '';
}

export async function getDeadLetters(
  transport: Transport,
  agentId: string,
  options: DeadLettersOptions,
): Promise<Page<DeadLetter>> {
  const query = queryOf({ limit: options.limit, cursor: options.cursor });
  const answer = await transport.request<Page<DeadLetter>>(
    'GET',
    `/v1/agents/${enc(agentId)}/dead-letters${query}`,
  );
  return answer.body as Page<DeadLetter>;
}

export async function postRedrive(
  transport: Transport,
  agentId: string,
  target: RedriveTarget,
): Promise<number> {
  const body = Array.isArray(target) ? { message_ids: target } : { all: true };
  const answer = await transport.request<{ redriven: number }>(
    'POST',
    `/v1/agents/${enc(agentId)}/dead-letters/redrive`,
    { body },
  );
  return answer.body?.redriven ?? 0;
}

export async function deleteDeadLetter(
  transport: Transport,
  agentId: string,
  messageId: string,
): Promise<void> {
  await transport.request('DELETE', `/v1/agents/${enc(agentId)}/dead-letters/${enc(messageId)}`);
}

export async function deleteMessage(transport: Transport, messageId: string): Promise<void> {
  await transport.request('DELETE', `/v1/messages/${enc(messageId)}`);
}

export async function getMessages(
  transport: Transport,
  agentId: string,
  options: ListMessagesOptions,
): Promise<Page<MessageRecord>> {
  const { direction, status, limit, cursor } = options;
  const query = queryOf({ direction, status, limit, cursor });
  const answer = await transport.request<Page<MessageRecord>>(
    'GET',
    `/v1/agents/${enc(agentId)}/messages${query}`,
  );
  return answer.body as Page<MessageRecord>;
}

export async function getThread(transport: Transport, correlationId: string): Promise<MessageRecord[]> {
  const answer = await transport.request<{ messages: MessageRecord[] }>(
    'GET',
    `/v1/threads/${enc(correlationId)}`,
  );
  return answer.body?.messages ?? [];
}
