import { useState } from 'preact/hooks';
import type { Message, Page, Relay } from './api';
import { MessageList } from './message-list';
import { ErrorNote } from './relay-error';
import { useAction, useResource } from './use-resource';

// The states a person filters by; the listing takes any of them as `status`.
const STATUSES = ['delivered', 'leased', 'acked', 'dead', 'cancelled'];

/**
 * The inbox (or the sent messages) of one agent, newest first, re-read on every live event.
 * Reading the listing never leases: a message shown here is still there for the agent's consumer.
 */
export function MessagesView({
  relay,
  agentId,
  direction,
  revision,
  onOpen,
}: {
  relay: Relay;
  agentId: string;
  direction: 'inbox' | 'sent';
  revision: number;
  onOpen: (message: Message) => void;
}) {
  const [status, setStatus] = useState('');
  const [older, setOlder] = useState<Page<Message> | null>(null);
  const first = useResource(
    () => relay.messages(agentId, { direction, status }),
    [relay, agentId, direction, status, revision],
  );
  const paging = useAction();
  const loadOlder = async () => {
    const cursor = (older ?? first.data)?.nextCursor;
    if (!cursor) return;
    const page = await paging.run(() => relay.messages(agentId, { direction, status, cursor }));
    if (page) setOlder({ items: [...(older?.items ?? []), ...page.items], nextCursor: page.nextCursor });
  };
  const title = direction === 'inbox' ? 'Inbox' : 'Sent';
  // New messages arriving on top shift the pages, so an older page may repeat a few.
  const seen = new Set<string>();
  const messages = [...(first.data?.items ?? []), ...(older?.items ?? [])].filter(
    (m) => !seen.has(m.id) && seen.add(m.id),
  );
  const more = (older ?? first.data)?.nextCursor;

  return (
    <section aria-labelledby="messages-title">
      <div class="toolbar">
        <h2 id="messages-title" tabIndex={-1}>
          {title}
        </h2>
        <label for="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => {
            setOlder(null);
            setStatus(e.currentTarget.value);
          }}
        >
          <option value="">all</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={first.error} />
      {first.data ? (
        <MessageList messages={messages} direction={direction} onOpen={onOpen} label={`${title} messages`} />
      ) : first.error ? null : (
        <p aria-live="polite">Loading…</p>
      )}
      {more ? (
        <button type="button" disabled={paging.busy} onClick={() => void loadOlder()}>
          Older messages
        </button>
      ) : null}
      <ErrorNote error={paging.error} />
    </section>
  );
}
