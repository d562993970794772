import type { Deps } from '../deps.js';
import { observe, type RelayEvent } from '../observe/events.js';

// Inbox operations own their side effects: each runs its statement, wakes whoever waits on the
// inboxes it changed and records its event (log line, metrics, audit row), so an HTTP route, a
// WebSocket frame or a batch calling it adds nothing of its own. These are the effects they share.

/** Where a call came from, for the event it records. */
export interface Origin {
  requestId?: string | undefined;
}

/** What `message.sent` records, the request it came with, and when a delayed one becomes ready. */
export type Sent = Omit<Extract<RelayEvent, { kind: 'message.sent' }>, 'kind'> &
  Origin & { availableAt?: number | undefined };

/** A new message is in `to`'s inbox: wake its waiters (now, or when it is due) and record `message.sent`. */
export function announceSent(deps: Deps, m: Sent): void {
  deps.hub.notify(m.to, m.availableAt);
  const { requestId, availableAt: _, ...event } = m;
  observe(deps, { kind: 'message.sent', ...event }, requestId);
}
