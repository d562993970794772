import type { Credentials } from './auth.js';
import type { Message, MessageRef, NackOptions, NackResult, PullOptions } from './types.js';
import type { WebSocketConstructor } from './websocket.js';

/**
 * What a subscription needs of the client: handing it this, not the client, keeps the
 * subscription modules free of an import of the client that imports them.
 */
export interface Consumer {
  readonly agentId: string;
  readonly transport: { readonly baseUrl: string };
  readonly credentials: Credentials;
  readonly webSocket: WebSocketConstructor | undefined;
  pull(options: PullOptions & { signal?: AbortSignal }): Promise<Message | null>;
  ack(message: MessageRef): Promise<void>;
  nack(message: MessageRef, options?: NackOptions): Promise<NackResult>;
  /** Registers a message handed to user code; the returned function tells whether user code settled it. */
  track(id: string): () => boolean;
}

/** Called once per message; return to ACK, throw to NACK. */
export type MessageHandler = (message: Message) => unknown | Promise<unknown>;

/** Options of `subscribe()` and `messages()`. */
export interface SubscribeOptions {
  /**
   * `websocket` (push, with heartbeats), `poll` (long-poll PULL), or `auto` (default): the
   * WebSocket when the runtime has one and it connects, long polling otherwise.
   */
  transport?: 'auto' | 'websocket' | 'poll';
  /** Lease length of each message, in seconds (default 30). */
  visibilityTimeout?: number;
  /** Seconds each long poll waits for a message (default 20). */
  wait?: number;
  /** Told about errors the subscription survives: a lost connection, a failed ACK. */
  onError?: (error: unknown) => void;
  /** Longest pause between reconnection attempts, in ms (default 30000). */
  maxReconnectDelayMs?: number;
  /**
   * Reconnect when the relay has sent nothing (not even a ping) for this long, in ms (default: two
   * of the heartbeat intervals the relay announces, plus 5 s).
   */
  heartbeatTimeoutMs?: number;
}

/**
 * A running subscription.
 *
 * @example
 * const sub = client.subscribe(handle);
 * process.on('SIGTERM', () => sub.close());
 */
export interface Subscription {
  /**
   * Which transport is carrying messages right now.
   *
   * @example
   * if (sub.transport === 'poll') console.warn('no WebSocket; long polling');
   */
  readonly transport: 'websocket' | 'poll' | 'connecting';
  /**
   * Stops taking messages, lets the handler finish the one it is on (and settles it), NACKs any
   * pushed but not yet handled, and closes the connection.
   *
   * @example
   * await sub.close();
   */
  close(): Promise<void>;
}

/** What a transport loop shares with the subscription around it. */
export interface Running {
  readonly signal: AbortSignal;
  transport: Subscription['transport'];
  /** Runs the handler and settles the message: ACK on return, NACK on throw, nothing if user code did. */
  handle(message: Message, settle: (outcome: 'ack' | 'nack') => Promise<void>): Promise<void>;
  report(error: unknown): void;
}

/** Thrown into a handler's place when the consumer stops; never reported as a failure. */
export class StopConsuming extends Error {
  constructor() {
    super('subscription closed');
    this.name = 'StopConsuming';
  }
}
