import type { MessageRecord } from './browse-types.js';
import { TimeoutError } from './errors.js';
import { sleep } from './retry.js';

/** What the wait needs of the client: the thread of a correlation id, a read that leases nothing. */
export interface ThreadReader {
  readonly agentId: string;
  thread(correlationId: string): Promise<MessageRecord[]>;
}

const FIRST_POLL_MS = 100;
const LONGEST_POLL_MS = 1_000;

const isReply = (m: MessageRecord) => m.type === 'task.result' || m.type === 'task.error';

/**
 * Waits for the reply to `requestId` by reading threads (SPEC: Browsing), never the inbox: a
 * PULL would lease, and so spend, whatever other message came first, and would race this
 * agent's own consumer for the reply. The reply is the first `task.result` or `task.error` to
 * this agent that carries the request's correlation id (its own id when it had none) and comes
 * after the request in that thread; it is returned as the thread shows it, neither leased nor acked.
 */
export async function waitForReply(
  reader: ThreadReader,
  requestId: string,
  timeoutMs: number,
): Promise<MessageRecord> {
  const deadline = Date.now() + timeoutMs;
  const me = `agent://${reader.agentId}`;
  // The thread of the request's id holds the request itself, which names its correlation id.
  let thread = await reader.thread(requestId);
  const key = thread.find((m) => m.id === requestId)?.correlation_id ?? requestId;
  if (key !== requestId) thread = await reader.thread(key);
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, LONGEST_POLL_MS)) {
    const after = thread.findIndex((m) => m.id === requestId);
    const reply = thread.slice(after + 1).find((m) => isReply(m) && m.to === me && m.correlation_id === key);
    if (reply) return reply;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new TimeoutError({ code: 'timeout', message: `no reply to ${requestId} within ${timeoutMs} ms` });
    }
    await sleep(Math.min(pause, left));
    thread = await reader.thread(key);
  }
}
