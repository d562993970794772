import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import { notFound, RelayError } from '../errors.js';
import type { MessageState } from '../message-states.js';
import { observe } from '../observe/events.js';
import type { Origin } from './operation.js';

export interface CancelRequest extends Origin {
  messageId: string;
  /** Only this sender's message may be cancelled; null for the admin, who may cancel any. */
  senderId: string | null;
}

// One conditional UPDATE decides the race with a PULL: whichever locks the row first wins, and the
// other re-reads it after that commit (READ COMMITTED re-checks the WHERE clause), so a message is
// either cancelled and never leased, or leased and not cancelled. `status::text`: see ack.ts.
// `seen` is the row as it was before, which tells "not yours" (404) from "too late" (409).
const CANCEL = statement(
  'admp_cancel',
  `with seen as (
     select id, status, from_agent_id, to_agent_id from message
     where id = $1 and ($2::text is null or from_agent_id = $2)
   ), cancelled as (
     update message m set status = 'cancelled', finished_at = now()
     from seen where m.id = seen.id and m.status::text = 'delivered'
     returning m.id
   )
   select seen.status, seen.from_agent_id, seen.to_agent_id,
     exists (select 1 from cancelled) as cancelled
   from seen`,
  { durable: true },
);

/** Cancels a message its recipient has not taken yet; 409 once it is leased or finished. */
export async function cancel(deps: Deps, request: CancelRequest): Promise<void> {
  const messageId = request.messageId.toLowerCase();
  const [row] = await deps.run<{
    status: MessageState;
    from_agent_id: string;
    to_agent_id: string;
    cancelled: boolean;
  }>(CANCEL, [messageId, request.senderId]);
  if (!row) throw notFound(`message ${request.messageId}`);
  if (!row.cancelled) {
    // The row as seen before a PULL that won the race still says delivered.
    const now = row.status === 'delivered' ? 'no longer delivered' : row.status;
    throw new RelayError(
      'invalid_state',
      `message ${messageId} is ${now}; only a delivered message can be cancelled`,
    );
  }
  observe(
    deps,
    { kind: 'message.cancelled', agentId: row.to_agent_id, messageId, from: row.from_agent_id },
    request.requestId,
  );
}
