import { TimeoutError } from './errors.js';
import { sleep } from './retry.js';
import type { Message, NackOptions, NackResult, PullOptions } from './types.js';

/** What the waiter needs of the client. */
interface Inbox {
  pull(options: PullOptions & { signal?: AbortSignal }): Promise<Message | null>;
  ack(message: Message): Promise<void>;
  nack(message: Message, options?: NackOptions): Promise<NackResult>;
}

interface Waiter {
  resolve(message: Message): void;
  reject(error: unknown): void;
}

// A reply carries the request's correlation_id when it had one, else the request's id; sends
// remember the former so waitForReply(id) finds either. Bounded: only recent sends are awaited.
const REMEMBERED_SENDS = 1_000;
const LONG_POLL_SEC = 5;
const EMPTY_POLL_PAUSE_MS = 200;

/**
 * One pull loop for every waitForReply of a client, so concurrent waits never take each other's
 * replies: whatever the loop leases goes to the waiter it answers, and anything else goes back.
 */
export class ReplyWaiter {
  readonly #inbox: Inbox;
  readonly #waiting = new Map<string, Waiter>();
  readonly #correlation = new Map<string, string>();
  #stop: AbortController | undefined;

  constructor(inbox: Inbox) {
    this.#inbox = inbox;
  }

  /** Called by send(): the key a reply to `id` will carry. */
  sent(id: string, correlationId: string | undefined): void {
    if (correlationId === undefined) return;
    this.#correlation.set(id, correlationId);
    if (this.#correlation.size > REMEMBERED_SENDS) {
      this.#correlation.delete(this.#correlation.keys().next().value as string);
    }
  }

  wait(messageId: string, timeoutMs: number): Promise<Message> {
    const key = this.#correlation.get(messageId) ?? messageId;
    if (this.#waiting.has(key)) {
      return Promise.reject(new TypeError(`already waiting for the reply to ${messageId}`));
    }
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(key)?.reject(
          new TimeoutError({ code: 'timeout', message: `no reply to ${messageId} within ${timeoutMs} ms` }),
        );
      }, timeoutMs);
      const done = () => clearTimeout(timer);
      this.#waiting.set(key, {
        resolve: (m) => {
          done();
          resolve(m);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      if (!this.#stop || this.#stop.signal.aborted) void this.#run();
    });
  }

  #settle(key: string): Waiter | undefined {
    const waiter = this.#waiting.get(key);
    this.#waiting.delete(key);
    if (this.#waiting.size === 0) this.#stop?.abort();
    return waiter;
  }

  async #run(): Promise<void> {
    const stop = new AbortController();
    this.#stop = stop;
    try {
      while (this.#waiting.size > 0 && !stop.signal.aborted) {
        const started = Date.now();
        const message = await this.#inbox.pull({ wait: LONG_POLL_SEC, signal: stop.signal });
        if (!message) {
          // A relay without long polling answers at once; do not spin on it.
          if (Date.now() - started < EMPTY_POLL_PAUSE_MS) await sleep(EMPTY_POLL_PAUSE_MS, stop.signal);
          continue;
        }
        const key = message.correlation_id ?? '';
        const isReply = message.type === 'task.result' || message.type === 'task.error';
        if (isReply && this.#waiting.has(key)) {
          await this.#inbox.ack(message);
          this.#settle(key)?.resolve(message);
        } else {
          await this.#inbox.nack(message);
        }
      }
    } catch (error) {
      if (!stop.signal.aborted) for (const key of [...this.#waiting.keys()]) this.#settle(key)?.reject(error);
    } finally {
      if (this.#stop === stop) this.#stop = undefined;
    }
  }
}
