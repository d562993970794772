import type { Deps } from '../deps.js';
import { observe } from '../observe/events.js';

// Inbox operations own their side effects: each runs its statement, wakes whoever waits on the
// inboxes it changed and records its event (log line, metrics, audit row), so an HTTP route, a
// WebSocket frame or a batch calling it adds nothing of its own. These are the effects they share.

/** Where a call came from, for the event it records. */
export interface Origin {
  requestId?: string | undefined;
}

export interface Sent {
  messageId: string;
  from: string;
  to: string;
  type: string;
  subject: string;
  correlationId: string | null;
  /** The rule that admitted it; a REPLY answers an admitted message and names none. */
  policy: string | null;
  via: 'send' | 'reply' | 'broadcast';
  requestId?: string | undefined;
}

/** A new message is in `to`'s inbox: wake its waiters and record `message.sent`. */
export function announceSent(deps: Deps, m: Sent): void {
  deps.hub.notify(m.to);
  const { requestId, ...event } = m;
  observe(deps, { kind: 'message.sent', ...event }, requestId);
}
