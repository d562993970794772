import { useState } from 'preact/hooks';
import type { Message, Relay } from './api';
import { bareId, when } from './format';
import { ErrorNote } from './relay-error';
import { useAction, useResource } from './use-resource';

/** The agent's dead letters, oldest first, with redrive (chosen ones or all) and purge. */
export function DeadLettersView({
  relay,
  agentId,
  revision,
  onChanged,
}: {
  relay: Relay;
  agentId: string;
  revision: number;
  onChanged: () => void;
}) {
  const letters = useResource(() => relay.deadLetters(agentId), [relay, agentId, revision]);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [purging, setPurging] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const items = letters.data?.items ?? [];

  const act = async (what: () => Promise<string>) => {
    setDone(null);
    const said = await action.run(what);
    if (said) {
      setDone(said);
      setChosen(new Set());
      setPurging(null);
      letters.reload();
      onChanged();
    }
  };
  const redrive = (which: { message_ids: string[] } | { all: true }) =>
    act(async () => `Redriven: ${await relay.redrive(agentId, which)}`);
  const purge = (id: string) =>
    act(async () => {
      await relay.purge(agentId, id);
      return 'Purged 1 dead letter';
    });
  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };

  return (
    <section aria-labelledby="dead-title">
      <div class="toolbar">
        <h2 id="dead-title" tabIndex={-1}>
          Dead letters
        </h2>
        <button
          type="button"
          disabled={action.busy || chosen.size === 0}
          onClick={() => void redrive({ message_ids: [...chosen] })}
        >
          Redrive selected
        </button>
        <button
          type="button"
          disabled={action.busy || items.length === 0}
          onClick={() => void redrive({ all: true })}
        >
          Redrive all
        </button>
      </div>
      <ErrorNote error={letters.error ?? action.error} />
      {done ? (
        <p role="status" class="ok">
          {done}
        </p>
      ) : null}
      {letters.data && items.length === 0 ? <p class="empty">No dead letters.</p> : null}
      <ul class="messages" aria-label="Dead letters">
        {items.map((m: Message) => (
          <li key={m.id} data-message-id={m.id}>
            <input
              type="checkbox"
              id={`dead-${m.id}`}
              checked={chosen.has(m.id)}
              onChange={(e) => toggle(m.id, e.currentTarget.checked)}
            />
            <label for={`dead-${m.id}`} class="open">
              <span class="subject">{m.subject}</span>
              <span class="meta">
                from {bareId(m.from)} · {m.attempts} attempts · died {when(m.died_at)} · {m.last_error ?? ''}
              </span>
            </label>
            {purging === m.id ? (
              <span class="confirm">
                <button type="button" class="danger" disabled={action.busy} onClick={() => void purge(m.id)}>
                  Purge for good
                </button>
                <button type="button" onClick={() => setPurging(null)}>
                  Keep
                </button>
              </span>
            ) : (
              <button type="button" aria-label={`Purge ${m.subject}`} onClick={() => setPurging(m.id)}>
                Purge
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
