import { useState } from 'preact/hooks';
import type { Message, Relay } from './api';
import { bareId, parseObject } from './format';
import { ErrorNote } from './relay-error';
import { useSend } from './use-resource';

/**
 * Answers a message as the agent in view: a `task.result` (or `task.error`) to its sender, with
 * its subject and its correlation id (or its id), as REPLY would build it. Sent as a SEND, since
 * REPLY needs a lease and the console never takes one; the original stays for the agent's consumer.
 */
export function ReplyForm({
  relay,
  agentId,
  original,
  onSent,
}: {
  relay: Relay;
  agentId: string;
  original: Message;
  onSent: () => void;
}) {
  const [kind, setKind] = useState<'result' | 'error'>('result');
  const [text, setText] = useState('{\n  "approved": true\n}');
  const action = useSend(relay, agentId, onSent);

  const submit = (event: Event) => {
    event.preventDefault();
    void action.send(() => ({
      type: kind === 'result' ? 'task.result' : 'task.error',
      to: original.from,
      subject: original.subject,
      body: parseObject(text, kind === 'result' ? 'The result' : 'The error'),
      correlation_id: original.correlation_id ?? original.id,
    }));
  };

  return (
    <form class="reply" onSubmit={submit} aria-labelledby="reply-title">
      <h3 id="reply-title">Reply to {bareId(original.from)}</h3>
      <fieldset>
        <legend>Answer with</legend>
        <label>
          <input
            type="radio"
            name="reply-kind"
            checked={kind === 'result'}
            onChange={() => setKind('result')}
          />
          a result (task.result)
        </label>
        <label>
          <input
            type="radio"
            name="reply-kind"
            checked={kind === 'error'}
            onChange={() => {
              setKind('error');
              setText('{\n  "code": "rejected",\n  "message": ""\n}');
            }}
          />
          an error (task.error)
        </label>
      </fieldset>
      <label for="reply-body">{kind === 'result' ? 'Result' : 'Error'} (JSON object)</label>
      <textarea id="reply-body" rows={6} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit" disabled={action.busy}>
        Send reply
      </button>
      <ErrorNote error={action.error} />
      {action.sent ? (
        <p role="status" class="ok">
          Reply sent: <code>{action.sent}</code>
        </p>
      ) : null}
    </form>
  );
}
