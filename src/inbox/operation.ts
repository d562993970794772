import type { Deps } from '../deps.js';
import { observe, type RelayEvent } from '../observe/events.js';

// Inbox operations own their side effects: each runs its statement, wakes whoever waits on the
// inboxes it changed and records its event (log line, metrics, audit row), so an HTTP route, a
// WebSocket frame or a batch calling it adds nothing of its own. These are the effects they share.

/** Where a call came from, for the event it records. */
export interface Origin {
  requestId?: string | undefined;
}

/** What `message.sent` records, and the request it came with. */
export type Sent = Omit<Extract<RelayEvent, { kind: 'message.sent' }>, 'kind'> & Origin;

/** A new message is in `to`'s inbox: wake its waiters and record `message.sent`. */
export function announceSent(deps: Deps, m: Sent): void {
  deps.hub.notify(m.to, 'ready');
  const { requestId, ...event } = m;
  observe(deps, { kind: 'message.sent', ...event }, requestId);
}
