import type { Envelope, MessageProgress, MessageState } from './types.js';

// Shapes of the read-only endpoints (SPEC: Dead letters, delay, cancel; Browsing). They keep the
// wire's field names, as every other result does.

/** A message as listings and threads show it: the envelope and where it stands. Nothing is leased. */
export type MessageRecord = Envelope & MessageProgress;

/** A message that ran out of attempts or TTL, as `deadLetters()` lists it. */
export interface DeadLetter extends Envelope {
  status: 'dead';
  attempts: number;
  last_error: string | null;
  died_at: string;
}

/** One page of a listing; pass `next_cursor` back as `cursor` for the next, until it is null. */
export interface Page<T> {
  messages: T[];
  next_cursor: string | null;
}

/** Options of `deadLetters()`. */
export interface DeadLettersOptions {
  /** At most this many (the relay's default is 50). */
  limit?: number;
  /** `next_cursor` of the page before. */
  cursor?: string;
}

/** Options of `listMessages()`. */
export interface ListMessagesOptions extends DeadLettersOptions {
  /** `inbox` (default: messages to this agent) or `sent` (messages from it). */
  direction?: 'inbox' | 'sent';
  /** Only messages in this state. */
  status?: MessageState;
}

/** What `redrive()` sends back to the inbox: these dead letters' ids, or all of them. */
export type RedriveTarget = string[] | { all: true };
