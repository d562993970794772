import { type MessageHandler, StopConsuming, type SubscribeOptions, type Subscription } from './consumer.js';
import type { Message } from './types.js';

/** Options of `messages()`: the same as `subscribe()`'s. */
export type MessagesOptions = SubscribeOptions;

interface Handoff {
  message: Message;
  /** Resolved by the loop: undefined when the body completed, an error when it did not. */
  finish(outcome: Error | undefined): void;
}

/**
 * The inbox as an async generator, built on a subscription whose handler hands each message to
 * the loop body and waits for the body to finish. The subscription settles it: ACK when the body
 * completed, NACK when it threw or broke out.
 */
export async function* consumeMessages(
  client: { subscribe(handler: MessageHandler, options: SubscribeOptions): Subscription },
  options: MessagesOptions,
): AsyncGenerator<Message> {
  const waiting: Handoff[] = [];
  let wake: (() => void) | undefined;
  const subscription = client.subscribe(
    (message) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ message, finish: (outcome) => (outcome ? reject(outcome) : resolve()) });
        wake?.();
      }),
    options,
  );
  try {
    for (;;) {
      while (waiting.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      const handoff = waiting.shift() as Handoff;
      let completed = false;
      try {
        yield handoff.message;
        completed = true;
      } finally {
        handoff.finish(completed ? undefined : new StopConsuming());
      }
    }
  } finally {
    // A break or throw lands here after the finally above, so the NACK is queued before close.
    await subscription.close();
  }
}
