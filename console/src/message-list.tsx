import type { Message } from './api';
import { bareId, when } from './format';

/** Messages as a list of cards; choosing one opens it. Fits a narrow window without scrolling sideways. */
export function MessageList({
  messages,
  direction,
  onOpen,
  label,
}: {
  messages: Message[];
  direction: 'inbox' | 'sent';
  onOpen: (message: Message) => void;
  label: string;
}) {
  if (messages.length === 0) return <p class="empty">No messages.</p>;
  return (
    <ul class="messages" aria-label={label}>
      {messages.map((m) => (
        <li key={m.id} data-message-id={m.id}>
          <button type="button" class="open" onClick={() => onOpen(m)}>
            <span class="subject">{m.subject}</span>
            <span class="meta">
              {direction === 'inbox' ? `from ${bareId(m.from)}` : `to ${bareId(m.to)}`} · {m.type} ·{' '}
              {when(m.created_at ?? m.timestamp)}
            </span>
          </button>
          <span class={`status status-${m.status}`}>{m.status}</span>
        </li>
      ))}
    </ul>
  );
}
