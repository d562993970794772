import { useState } from 'preact/hooks';
import { Relay } from './api';
import { ErrorNote } from './relay-error';
import type { Session } from './session';
import { useAction } from './use-resource';

/**
 * Signs in with a key: an agent's (with its id) or the relay's admin key (no id). The key is
 * checked against the relay before it is kept, so a wrong one shows the relay's own refusal.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [agentId, setAgentId] = useState('');
  const [key, setKey] = useState('');
  const action = useAction();

  const submit = async (event: Event) => {
    event.preventDefault();
    const session: Session = { key: key.trim(), agentId: agentId.trim() || null };
    const relay = new Relay(session);
    const ok = await action.run(async () => {
      if (session.agentId) await relay.agent(session.agentId);
      else await relay.agents();
      return true;
    });
    if (ok) onSignedIn(session);
  };

  return (
    <main class="sign-in">
      <h1>ADMP console</h1>
      <form onSubmit={submit}>
        <label for="sign-in-agent">Agent id</label>
        <input
          id="sign-in-agent"
          name="agent"
          autocomplete="username"
          value={agentId}
          onInput={(e) => setAgentId(e.currentTarget.value)}
          aria-describedby="sign-in-agent-hint"
        />
        <p id="sign-in-agent-hint" class="hint">
          Leave empty to sign in with the relay's admin key.
        </p>
        <label for="sign-in-key">Key</label>
        <input
          id="sign-in-key"
          name="key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-describedby="sign-in-key-hint"
        />
        <p id="sign-in-key-hint" class="hint">
          Kept in this tab's session storage only, and sent only in the Authorization header.
        </p>
        <button type="submit" disabled={action.busy}>
          Sign in
        </button>
        <ErrorNote error={action.error} />
      </form>
    </main>
  );
}
