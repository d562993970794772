// Batches (SPEC: Batches) are not transactions: each item succeeds or fails as its single
// operation would. The relay answers 200 with one result per item, in request order; these turn
// them into results whose failures are values, so one bad item never hides the others' outcome.
import { APIError, itemError } from './errors.js';
import type { Transport } from './transport.js';
import type {
  AckBatchResult,
  AckRef,
  Envelope,
  Message,
  PullBatchOptions,
  SendBatchResult,
} from './types.js';

const enc = encodeURIComponent;

/** SEND batch: the envelopes, built and signed once, so every retry repeats the same ids. */
export async function postSendBatch(
  transport: Transport,
  envelopes: Envelope[],
  query = '',
): Promise<SendBatchResult[]> {
  const answer = await transport.request('POST', `/v1/messages/batch${query}`, {
    body: { messages: envelopes },
  });
  return sendResultsOf(answer.body, envelopes);
}

/** PULL batch: up to `maxMessages` leased messages, oldest first; [] when the inbox stays empty. */
export async function postPullBatch(
  transport: Transport,
  agentId: string,
  options: PullBatchOptions & { signal?: AbortSignal },
): Promise<Message[]> {
  const query = new URLSearchParams({
    max_messages: String(options.maxMessages ?? 10),
    visibility_timeout: String(options.visibilityTimeout ?? 30),
  });
  const wait = options.wait ?? 0;
  if (wait > 0) query.set('wait', String(wait));
  const answer = await transport.request<{ messages: Message[] }>(
    'POST',
    `/v1/agents/${enc(agentId)}/inbox/pull-batch?${query}`,
    { extraTimeoutMs: wait * 1000, ...(options.signal ? { signal: options.signal } : {}) },
  );
  return answer.body?.messages ?? [];
}

/** ACK batch: each ref names its lease, so a stale one fails alone. */
export async function postAckBatch(
  transport: Transport,
  agentId: string,
  refs: AckRef[],
): Promise<AckBatchResult[]> {
  const acks = refs.map(wireAckOf);
  const answer = await transport.request('POST', `/v1/agents/${enc(agentId)}/inbox/ack-batch`, {
    body: { acks },
  });
  return ackResultsOf(answer.body, acks);
}

interface WireError {
  code?: unknown;
  message?: unknown;
  status?: unknown;
}

interface WireResult {
  message_id?: string;
  status?: string;
  error?: WireError;
}

/** Results of `POST /v1/messages/batch`, paired with the envelopes sent. */
function sendResultsOf(body: unknown, envelopes: Envelope[]): SendBatchResult[] {
  return resultsOf(body, envelopes.length).map((r, i) => {
    const messageId = r.message_id ?? (envelopes[i] as Envelope).id;
    return r.error ? { messageId, error: itemError(r.error) } : { messageId };
  });
}

/** Results of `POST …/inbox/ack-batch`, paired with the refs sent. */
function ackResultsOf(body: unknown, acks: WireAck[]): AckBatchResult[] {
  return resultsOf(body, acks.length).map((r, i) => {
    const messageId = r.message_id ?? (acks[i] as WireAck).message_id;
    return r.error ? { messageId, error: itemError(r.error) } : { messageId, status: 'acked' as const };
  });
}

interface WireAck {
  message_id: string;
  lease_id: string;
}

/** ACK batch items always name their lease (the relay requires it), so a stale one fails alone. */
function wireAckOf(ref: AckRef): WireAck {
  return 'message_id' in ref
    ? { message_id: ref.message_id, lease_id: ref.lease_id }
    : { message_id: ref.id, lease_id: ref.lease_id };
}

function resultsOf(body: unknown, expected: number): WireResult[] {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== expected) {
    // A relay that answers 200 without one result per item is broken; say so rather than guess.
    throw new APIError({
      status: 200,
      code: 'invalid_response',
      message: `expected ${expected} batch results, got ${Array.isArray(results) ? results.length : 'none'}`,
      body,
    });
  }
  return results as WireResult[];
}
