import { type Credentials, pickCredentials } from './auth.js';
import { postAckBatch, postPullBatch, postSendBatch } from './batch.js';
import {
  deleteDeadLetter,
  deleteMessage,
  getDeadLetters,
  getMessages,
  getThread,
  postRedrive,
} from './browse.js';
import type {
  DeadLetter,
  DeadLettersOptions,
  ListMessagesOptions,
  MessageRecord,
  Page,
  RedriveTarget,
} from './browse-types.js';
import type { MessageHandler, SubscribeOptions, Subscription } from './consumer.js';
import { envelopeOf } from './envelope.js';
import { ValidationError } from './errors.js';
import { newIdempotencyKey } from './idempotency.js';
import { consumeMessages, type MessagesOptions } from './messages.js';
import type { ClientOptions } from './options.js';
import { bareId, refOf, settlePath } from './paths.js';
import { waitForReply } from './reply-waiter.js';
import { DEFAULT_RETRIES } from './retry.js';
import { importSigningKey, signEnvelope } from './signing.js';
import { openSubscription } from './subscription.js';
import { Transport } from './transport.js';
import type {
  AckBatchResult,
  AckRef,
  BatchItem,
  Envelope,
  InboxStats,
  Message,
  MessageRef,
  MessageStatus,
  NackOptions,
  NackResult,
  PullBatchOptions,
  PullOptions,
  ReplyOptions,
  SendBatchOptions,
  SendBatchResult,
  SendOptions,
  WaitOptions,
} from './types.js';
import type { WebSocketConstructor } from './websocket.js';

export type { ClientOptions };

const enc = encodeURIComponent;

/**
 * A client for one agent of an ADMP relay: send to other agents, lease from this agent's inbox,
 * settle what it leased, follow messages, and look after its dead letters. Stateless apart from
 * open subscriptions, so one instance per agent serves a whole process.
 *
 * @example
 * import { ADMPClient } from '@agent-dispatch/client';
 * const client = new ADMPClient({ relayUrl: 'http://localhost:3030', agentId: 'auth.backend', apiKey: process.env.ADMP_API_KEY });
 * const id = await client.send({ to: 'storage.pg', type: 'task.request', subject: 'create_user', body: { email: 'a@example.com' } });
 */
export class ADMPClient {
  /**
   * This agent's id, without the `agent://` prefix.
   *
   * @example
   * console.log(`consuming ${client.agentId}`);
   */
  readonly agentId: string;
  /** @internal */
  readonly transport: Transport;
  /** @internal */
  readonly credentials: Credentials;
  /** @internal */
  readonly webSocket: WebSocketConstructor | undefined;
  readonly #signing: Promise<{ key: CryptoKey; kid: string }> | undefined;
  // Messages a handler or loop body is working on; ids it settled itself are not settled again.
  readonly #handled = new Map<string, boolean>();

  /**
   * @example
   * const client = new ADMPClient({ relayUrl: 'https://relay.example.com', agentId: 'worker.1', hmacSecret: process.env.ADMP_HMAC_SECRET });
   */
  constructor(options: ClientOptions) {
    if (!options?.relayUrl) throw new TypeError('ADMPClient: relayUrl is required');
    if (!options.agentId) throw new TypeError('ADMPClient: agentId is required');
    this.agentId = bareId(options.agentId);
    this.credentials = pickCredentials({ ...options, agentId: this.agentId });
    if (options.signingKey !== undefined) {
      if (!options.kid) throw new TypeError('ADMPClient: kid is required with signingKey');
      const kid = options.kid;
      this.#signing = importSigningKey(options.signingKey).then((key) => ({ key, kid }));
      // Reported on first use; an unhandled rejection here would crash a process that never sends.
      this.#signing.catch(() => {});
    }
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function')
      throw new TypeError('ADMPClient: no fetch available; pass options.fetch');
    this.transport = new Transport({
      relayUrl: options.relayUrl,
      credentials: this.credentials,
      retries: options.retries ?? DEFAULT_RETRIES,
      timeoutMs: options.timeoutMs ?? 30_000,
      fetch: (input, init) => fetchImpl(input, init),
    });
    this.webSocket = options.WebSocket;
  }

  /**
   * Sends a message to another agent's inbox and returns its id once the relay has stored it.
   * Retries reuse one idempotency key, so a retried SEND can never store the message twice.
   *
   * @example
   * const id = await client.send({ to: 'agent://storage.pg', type: 'task.request', subject: 'create_user', body: { email: 'a@example.com' } });
   */
  async send(options: SendOptions): Promise<string> {
    const envelope = await this.#envelope(options);
    const answer = await this.transport.request<{ message_id: string }>(
      'POST',
      `/v1/agents/${enc(bareId(options.to))}/messages${delayQuery(options.delaySec)}`,
      {
        body: envelope,
        headers: { 'idempotency-key': options.idempotencyKey ?? newIdempotencyKey() },
      },
    );
    return answer.body?.message_id ?? envelope.id;
  }

  /**
   * Sends up to 100 messages, to any recipients, in one request, and returns one result per item
   * in order: `{ messageId }`, or `{ messageId, error }` when the relay refused that item (the
   * APIError a single `send()` would have thrown: NotFoundError for an unknown recipient,
   * PermissionDeniedError for a policy, …). Item failures are returned, never thrown; only a
   * failure of the whole request throws (credentials, more than 100 items, over 5 MiB). Not a
   * transaction. Retries resend the same envelopes, whose ids make them safe to repeat. With
   * `delaySec`, every message of the batch is stored now and ready that many seconds later.
   *
   * @example
   * const results = await client.sendBatch([
   *   { to: 'billing', type: 'event', subject: 'order_paid', body: { order: 1 } },
   *   { to: 'shipping', type: 'task.request', subject: 'ship', body: { order: 1 } },
   * ]);
   * for (const r of results) if (r.error) console.error(r.messageId, r.error.code, r.error.message);
   */
  async sendBatch(items: BatchItem[], options: SendBatchOptions = {}): Promise<SendBatchResult[]> {
    if (items.length === 0) return [];
    const envelopes = await Promise.all(items.map((item) => this.#envelope(item)));
    return postSendBatch(this.transport, envelopes, delayQuery(options.delaySec));
  }

  /**
   * Leases the oldest ready message of this agent's inbox, or returns null when there is none
   * (after waiting up to `wait` seconds for one to arrive).
   *
   * @example
   * const msg = await client.pull({ visibilityTimeout: 60, wait: 20 });
   * if (msg) { await handle(msg.body); await client.ack(msg); }
   */
  async pull(options: PullOptions & { signal?: AbortSignal } = {}): Promise<Message | null> {
    const query = new URLSearchParams({ visibility_timeout: String(options.visibilityTimeout ?? 30) });
    const wait = options.wait ?? 0;
    if (wait > 0) query.set('wait', String(wait));
    const answer = await this.transport.request<Message>(
      'POST',
      `/v1/agents/${enc(this.agentId)}/inbox/pull?${query}`,
      {
        extraTimeoutMs: wait * 1000,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    return answer.status === 204 ? null : answer.body;
  }

  /**
   * Acknowledges a leased message: it is done and will not be delivered again. Pass the message
   * (its `lease_id` goes along, so a lease that ran out and went to another worker is refused
   * with NotFoundError) or just its id.
   *
   * @example
   * await client.ack(msg);
   */
  async ack(message: MessageRef): Promise<void> {
    const { id, leaseId } = refOf(message);
    await this.transport.request('POST', settlePath(this.agentId, id, 'ack', leaseId));
    this.#markSettled(id);
  }

  /**
   * Leases up to `maxMessages` (1–100, default 10) ready messages of this inbox, oldest first;
   * an empty array when there are none (after waiting up to `wait` seconds for the first).
   * Settle each one, or all at once with `ackBatch`.
   *
   * @example
   * const batch = await client.pullBatch({ maxMessages: 50, visibilityTimeout: 120, wait: 20 });
   * for (const msg of batch) await handle(msg.body);
   * await client.ackBatch(batch);
   */
  pullBatch(options: PullBatchOptions & { signal?: AbortSignal } = {}): Promise<Message[]> {
    return postPullBatch(this.transport, this.agentId, options);
  }

  /**
   * Acknowledges up to 100 leased messages in one request and returns one result per item in
   * order: `{ messageId, status: 'acked' }`, or `{ messageId, error }` (a NotFoundError when that
   * lease ran out or went to another worker). Item failures are returned, never thrown. Pass the
   * leased messages themselves, or `{ message_id, lease_id }`: each names the lease you hold.
   *
   * @example
   * const results = await client.ackBatch(await client.pullBatch({ maxMessages: 20 }));
   * const lost = results.filter((r) => r.error).map((r) => r.messageId);
   */
  async ackBatch(messages: AckRef[]): Promise<AckBatchResult[]> {
    if (messages.length === 0) return [];
    const results = await postAckBatch(this.transport, this.agentId, messages);
    for (const r of results) if (!r.error) this.#markSettled(r.messageId);
    return results;
  }

  /**
   * Gives a leased message back (delivered again, one attempt counted; dead after the last), with
   * `delaySec` ready again only that many seconds later (back-off), or with `extend` keeps it
   * leased that many seconds longer.
   *
   * @example
   * await client.nack(msg);                  // try again now
   * await client.nack(msg, { delaySec: 60 }); // try again in a minute
   * await client.nack(msg, { extend: 120 }); // still working on it
   */
  async nack(message: MessageRef, options: NackOptions = {}): Promise<NackResult> {
    const { id, leaseId } = refOf(message);
    // Both go along when both are given, so the relay refuses the mix as it would from any client.
    const extra = [
      options.extend === undefined ? '' : `extend=${options.extend}`,
      options.delaySec === undefined ? '' : `delay=${options.delaySec}`,
    ]
      .filter(Boolean)
      .join('&');
    const answer = await this.transport.request<NackResult>(
      'POST',
      settlePath(this.agentId, id, 'nack', leaseId, extra),
    );
    if (options.extend === undefined) this.#markSettled(id);
    return answer.body as NackResult;
  }

  /**
   * Answers a leased `task.request`: the relay sends `task.result` (or `task.error`) to its sender
   * with the request's correlation id, and acks the request, in one step. Returns the reply's id.
   *
   * @example
   * await client.reply(msg, { result: { user_id: 42 } });
   * await client.reply(msg, { error: { code: 'not_found', message: 'no such user' } });
   */
  async reply(
    message: Pick<Message, 'id'> & Partial<Pick<Message, 'lease_id'>>,
    response: ReplyOptions,
  ): Promise<string> {
    if (!response || 'result' in response === 'error' in response) {
      throw new ValidationError({
        code: 'validation_failed',
        message: 'reply takes { result } or { error }',
      });
    }
    const { id, leaseId } = refOf(message);
    const answer = await this.transport.request<{ message_id: string }>(
      'POST',
      settlePath(this.agentId, id, 'reply', leaseId),
      {
        body: response,
        headers: { 'idempotency-key': newIdempotencyKey() },
      },
    );
    this.#markSettled(id);
    return answer.body?.message_id ?? '';
  }

  /**
   * Waits for the reply to a message this agent sent and returns it; TimeoutError after
   * `timeoutMs` (default 5000). The reply is the first `task.result` or `task.error` to this
   * agent that carries the request's correlation id (the request's own id when it had none) and
   * came after the request. The wait reads the request's thread and takes nothing from the inbox:
   * other messages stay for the next pull, and the reply itself is returned as the thread shows it,
   * neither leased nor acked; it stays in the inbox for this agent's consumer like any message.
   *
   * @example
   * const id = await client.send({ to: 'storage.pg', type: 'task.request', subject: 'create_user', body: {} });
   * const answer = await client.waitForReply(id, { timeoutMs: 10_000 });
   */
  waitForReply(messageId: string, options: WaitOptions = {}): Promise<MessageRecord> {
    return waitForReply(this, messageId, options.timeoutMs ?? 5_000);
  }

  /**
   * Counts this agent's inbox by state.
   *
   * @example
   * const { ready, leased, dead, oldest_age_sec } = await client.inboxStats();
   */
  async inboxStats(): Promise<InboxStats> {
    return (await this.transport.request<InboxStats>('GET', `/v1/agents/${enc(this.agentId)}/inbox/stats`))
      .body as InboxStats;
  }

  /**
   * The delivery status of a message this agent sent or received.
   *
   * @example
   * const { status, attempts, last_error } = await client.status(id);
   */
  async status(messageId: string): Promise<MessageStatus> {
    return (await this.transport.request<MessageStatus>('GET', `/v1/messages/${enc(messageId)}/status`))
      .body as MessageStatus;
  }

  /**
   * One page of this agent's dead letters (messages whose attempts or TTL ran out), oldest first.
   * Pass `next_cursor` back as `cursor` for the next page; it is null on the last.
   *
   * @example
   * const { messages, next_cursor } = await client.deadLetters({ limit: 20 });
   * for (const m of messages) console.log(m.id, m.attempts, m.last_error, m.died_at);
   */
  deadLetters(options: DeadLettersOptions = {}): Promise<Page<DeadLetter>> {
    return getDeadLetters(this.transport, this.agentId, options);
  }

  /**
   * Sends dead letters back to this inbox, as if new: `delivered`, attempts 0, a fresh TTL.
   * Pass their ids, or `{ all: true }`; returns how many came back (ids that are not dead letters
   * of this inbox are skipped).
   *
   * @example
   * await client.redrive([deadId]);
   * const n = await client.redrive({ all: true });
   */
  redrive(target: RedriveTarget): Promise<number> {
    return postRedrive(this.transport, this.agentId, target);
  }

  /**
   * Deletes one dead letter of this inbox for good. NotFoundError when it is not a dead letter here.
   *
   * @example
   * await client.purgeDeadLetter(deadId);
   */
  purgeDeadLetter(messageId: string): Promise<void> {
    return deleteDeadLetter(this.transport, this.agentId, messageId);
  }

  /**
   * Cancels a message this agent sent, while no one has leased it (a delayed one, say): it is
   * never delivered. ConflictError (`invalid_state`) once it is leased or finished.
   *
   * @example
   * const id = await client.send({ to: 'mailer', type: 'event', subject: 'reminder', body: {}, delaySec: 3600 });
   * await client.cancel(id);
   */
  cancel(messageId: string): Promise<void> {
    return deleteMessage(this.transport, messageId);
  }

  /**
   * One page of this agent's inbox (or, with `direction: 'sent'`, of what it sent), newest first,
   * optionally of one `status`. Looking leases nothing.
   *
   * @example
   * const { messages } = await client.listMessages({ status: 'delivered', limit: 10 });
   * const sent = await client.listMessages({ direction: 'sent' });
   */
  listMessages(options: ListMessagesOptions = {}): Promise<Page<MessageRecord>> {
    return getMessages(this.transport, this.agentId, options);
  }

  /**
   * A conversation, oldest first: the message whose id is `correlationId` and every message
   * carrying it as `correlation_id`, of those this agent sent or received. NotFoundError when it
   * sees none.
   *
   * @example
   * for (const m of await client.thread(requestId)) console.log(m.type, m.from, m.status);
   */
  thread(correlationId: string): Promise<MessageRecord[]> {
    return getThread(this.transport, correlationId);
  }

  /**
   * Calls `handler` for every message of this inbox as it arrives (over the WebSocket, with
   * heartbeats and reconnection; or by long-polling), one at a time and in order. A handler that
   * returns ACKs the message; one that throws NACKs it. Messages the handler settled itself (for
   * example with `reply`) are left alone.
   *
   * @example
   * const sub = client.subscribe(async (msg) => {
   *   await client.reply(msg, { result: await work(msg.body) });
   * });
   * // later
   * await sub.close();
   */
  subscribe(handler: MessageHandler, options: SubscribeOptions = {}): Subscription {
    return openSubscription(this, handler, options);
  }

  /**
   * The inbox as an async iterator. The message is ACKed when the loop body completes and NACKed
   * when it throws; `break` also NACKs (JavaScript tells a generator about `break` and `throw`
   * the same way), so ack a message yourself before breaking out after finishing it.
   *
   * @example
   * for await (const msg of client.messages()) {
   *   await handle(msg.body);
   * }
   */
  messages(options: MessagesOptions = {}): AsyncGenerator<Message, void, undefined> {
    return consumeMessages(this, options);
  }

  /** @internal Registers a message handed to user code; returns whether user code settled it. */
  track(id: string): () => boolean {
    this.#handled.set(id, false);
    return () => {
      const settled = this.#handled.get(id) ?? false;
      this.#handled.delete(id);
      return settled;
    };
  }

  /** The envelope of one send, signed when the client has a signing key. */
  async #envelope(options: BatchItem): Promise<Envelope> {
    const envelope = envelopeOf(this.agentId, options);
    if (this.#signing) {
      const { key, kid } = await this.#signing;
      envelope.signature = await signEnvelope(envelope, key, kid);
    }
    return envelope;
  }

  #markSettled(id: string): void {
    if (this.#handled.has(id)) this.#handled.set(id, true);
  }
}

/** `?delay=` of a delayed SEND; nothing without one. */
function delayQuery(delaySec: number | undefined): string {
  return delaySec === undefined ? '' : `?delay=${delaySec}`;
}
