import { useEffect, useRef } from 'preact/hooks';
import type { Message, Relay } from './api';
import { bareId, when } from './format';
import { ErrorNote } from './relay-error';
import { ReplyForm } from './reply-form';
import { useAction, useResource } from './use-resource';

const agentUri = (id: string) => `agent://${id}`;

/**
 * One message: its envelope, delivery state (attempts, lease) and its whole thread, with a reply
 * form when it was sent to the agent in view and a cancel button while the agent's own message
 * still waits. Its state is re-read on every live event.
 */
export function MessageView({
  relay,
  agentId,
  message,
  revision,
  onOpen,
  onClose,
}: {
  relay: Relay;
  agentId: string;
  message: Message;
  revision: number;
  onOpen: (message: Message) => void;
  onClose: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [message.id]);
  const correlationId = message.correlation_id ?? message.id;
  const state = useResource(() => relay.status(message.id), [relay, message.id, revision]);
  const thread = useResource(() => relay.thread(correlationId), [relay, correlationId, revision]);
  const cancel = useAction();
  const current = { ...message, ...state.data };
  const mine = agentUri(agentId);

  return (
    <article class="message" aria-labelledby="message-title">
      <div class="toolbar">
        <button type="button" onClick={onClose}>
          Back
        </button>
        <h2 id="message-title" ref={heading} tabIndex={-1}>
          {message.subject}
        </h2>
      </div>
      <dl class="fields">
        {(
          [
            ['Id', current.id],
            ['Type', current.type],
            ['From', bareId(current.from)],
            ['To', bareId(current.to)],
            ['Status', current.status],
            ['Attempts', String(current.attempts)],
            ['Correlation id', current.correlation_id ?? '—'],
            ['Sent at', current.timestamp],
            ['Available at', when(current.available_at)],
            ['Lease until', when(current.lease_until)],
            ['Acked at', when(current.acked_at)],
            ['Last error', current.last_error ?? '—'],
          ] as const
        ).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd data-field={name}>{value}</dd>
          </div>
        ))}
      </dl>
      <ErrorNote error={state.error} />
      <h3>Body</h3>
      <pre class="body">{JSON.stringify(message.body, null, 2)}</pre>
      {message.headers && Object.keys(message.headers).length > 0 ? (
        <>
          <h3>Headers</h3>
          <pre>{JSON.stringify(message.headers, null, 2)}</pre>
        </>
      ) : null}
      {current.from === mine && current.status === 'delivered' ? (
        <p>
          <button
            type="button"
            disabled={cancel.busy}
            onClick={async () => {
              await cancel.run(() => relay.cancel(message.id));
              state.reload();
            }}
          >
            Cancel this message
          </button>
          <ErrorNote error={cancel.error} />
        </p>
      ) : null}
      <section aria-labelledby="thread-title">
        <h3 id="thread-title">Thread</h3>
        <ErrorNote error={thread.error} />
        <ol class="thread">
          {(thread.data ?? []).map((m) => (
            <li key={m.id} data-message-id={m.id} aria-current={m.id === message.id ? 'true' : undefined}>
              <button type="button" class="open" onClick={() => onOpen(m)} disabled={m.id === message.id}>
                <span class="subject">
                  {bareId(m.from)} → {bareId(m.to)}: {m.type}
                </span>
                <span class="meta">
                  {m.status} · {when(m.created_at ?? m.timestamp)}
                </span>
              </button>
            </li>
          ))}
        </ol>
      </section>
      {current.to === mine && current.from !== mine ? (
        <ReplyForm relay={relay} agentId={agentId} original={message} onSent={thread.reload} />
      ) : null}
    </article>
  );
}
