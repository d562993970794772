import { useState } from 'preact/hooks';
import type { Relay } from './api';
import { parseObject } from './format';
import { ErrorNote } from './relay-error';
import { useSend } from './use-resource';

const TYPES = ['task.request', 'task.result', 'task.error', 'event'];

/** Sends a message as the agent in view. */
export function Composer({ relay, agentId, onSent }: { relay: Relay; agentId: string; onSent: () => void }) {
  const [to, setTo] = useState('');
  const [type, setType] = useState('task.request');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('{}');
  const [correlationId, setCorrelationId] = useState('');
  const action = useSend(relay, agentId, onSent);

  const submit = (event: Event) => {
    event.preventDefault();
    void action.send(() => ({
      type,
      to: to.trim(),
      subject,
      body: parseObject(body, 'The body'),
      ...(correlationId.trim() ? { correlation_id: correlationId.trim() } : {}),
    }));
  };

  return (
    <form class="composer" onSubmit={submit} aria-labelledby="compose-title">
      <h2 id="compose-title" tabIndex={-1}>
        New message from {agentId}
      </h2>
      <label for="compose-to">To (agent id)</label>
      <input id="compose-to" required value={to} onInput={(e) => setTo(e.currentTarget.value)} />
      <label for="compose-type">Type</label>
      <select id="compose-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
        {TYPES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
      <label for="compose-subject">Subject</label>
      <input
        id="compose-subject"
        required
        maxLength={255}
        value={subject}
        onInput={(e) => setSubject(e.currentTarget.value)}
      />
      <label for="compose-body">Body (JSON object)</label>
      <textarea id="compose-body" rows={8} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
      <label for="compose-correlation">Correlation id (optional)</label>
      <input
        id="compose-correlation"
        value={correlationId}
        onInput={(e) => setCorrelationId(e.currentTarget.value)}
      />
      <button type="submit" disabled={action.busy}>
        Send
      </button>
      <ErrorNote error={action.error} />
      {action.sent ? (
        <p role="status" class="ok">
          Sent: <code>{action.sent}</code>
        </p>
      ) : null}
    </form>
  );
}
