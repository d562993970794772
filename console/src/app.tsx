import { useEffect, useMemo, useState } from 'preact/hooks';
import { AgentsView } from './agents';
import { type Message, Relay } from './api';
import { Composer } from './composer';
import { DeadLettersView } from './dead-letters';
import { MessagesView } from './inbox';
import { MessageView } from './message';
import { clearSession, loadSession, type Session, saveSession } from './session';
import { SignIn } from './sign-in';
import { Stats } from './stats';
import { useResource } from './use-resource';
import { watchInbox } from './watch';

type View = 'inbox' | 'sent' | 'dead' | 'compose' | 'agents';

const VIEWS: [View, string][] = [
  ['inbox', 'Inbox'],
  ['sent', 'Sent'],
  ['dead', 'Dead letters'],
  ['compose', 'Compose'],
  ['agents', 'Agents'],
];

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  if (!session) {
    return (
      <SignIn
        onSignedIn={(s) => {
          saveSession(s);
          setSession(s);
        }}
      />
    );
  }
  return (
    <Console
      session={session}
      onSignOut={() => {
        clearSession();
        setSession(null);
      }}
    />
  );
}

function Console({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const relay = useMemo(() => new Relay(session), [session]);
  const admin = session.agentId === null;
  // An admin acts for whichever agent it chooses; an agent key only for its own agent.
  const [agentId, setAgentId] = useState<string | null>(session.agentId);
  const [view, setView] = useState<View>(admin ? 'agents' : 'inbox');
  const [open, setOpen] = useState<Message | null>(null);
  // Counts choices of a view, so choosing the one already shown moves the focus too.
  const [shown, setShown] = useState(0);
  // Bumped by every live event: the views in sight re-read what they show.
  const [revision, setRevision] = useState(0);
  const bump = () => setRevision((r) => r + 1);

  useEffect(() => {
    if (!agentId) return;
    return watchInbox(relay, agentId, bump);
  }, [relay, agentId]);
  const stats = useResource(
    () => (agentId ? relay.stats(agentId) : Promise.resolve(undefined)),
    [relay, agentId, revision],
  );

  // A new view (or leaving a message) moves the focus to its heading, so keyboard and screen
  // reader users land where the content starts; the message view focuses its own heading.
  useEffect(() => {
    if (!open) document.querySelector<HTMLElement>('main h2')?.focus();
  }, [view, open, agentId, shown]);

  const choose = (id: string) => {
    setAgentId(id);
    setOpen(null);
    setView('inbox');
  };
  const show = (next: View) => {
    setOpen(null);
    setView(next);
    setShown((n) => n + 1);
  };
  const needsAgent = view !== 'agents' && !agentId;

  return (
    <>
      <header class="top">
        <h1>ADMP console</h1>
        <p class="who">
          Signed in {admin ? 'with the admin key' : `as ${session.agentId}`}
          {agentId ? (
            <>
              , viewing <strong data-agent={agentId}>{agentId}</strong>
            </>
          ) : null}
        </p>
        {admin ? <AgentSwitch relay={relay} agentId={agentId} onChoose={choose} /> : null}
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Views">
        <ul>
          {VIEWS.map(([name, label]) => (
            <li key={name}>
              <button
                type="button"
                aria-current={view === name ? 'page' : undefined}
                onClick={() => show(name)}
              >
                {label}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main>
        {agentId ? <Stats stats={stats} /> : null}
        {needsAgent ? (
          <p>Choose an agent first (Agents).</p>
        ) : open && agentId ? (
          <MessageView
            relay={relay}
            agentId={agentId}
            message={open}
            revision={revision}
            onOpen={setOpen}
            onClose={() => setOpen(null)}
          />
        ) : view === 'agents' ? (
          <AgentsView relay={relay} onChoose={admin ? choose : null} />
        ) : view === 'dead' && agentId ? (
          <DeadLettersView relay={relay} agentId={agentId} revision={revision} onChanged={bump} />
        ) : view === 'compose' && agentId ? (
          <Composer relay={relay} agentId={agentId} onSent={bump} />
        ) : agentId && (view === 'inbox' || view === 'sent') ? (
          <MessagesView
            relay={relay}
            agentId={agentId}
            direction={view}
            revision={revision}
            onOpen={setOpen}
          />
        ) : null}
      </main>
    </>
  );
}

/** The admin's choice of agent to act for; any id may be typed, not only the listed ones. */
function AgentSwitch({
  relay,
  agentId,
  onChoose,
}: {
  relay: Relay;
  agentId: string | null;
  onChoose: (id: string) => void;
}) {
  const agents = useResource(() => relay.agents(), [relay]);
  const [typed, setTyped] = useState(agentId ?? '');
  useEffect(() => setTyped(agentId ?? ''), [agentId]);
  return (
    <form
      class="switch"
      onSubmit={(e) => {
        e.preventDefault();
        if (typed.trim()) onChoose(typed.trim());
      }}
    >
      <label for="agent-switch">Act as agent</label>
      <input
        id="agent-switch"
        list="agent-switch-ids"
        value={typed}
        onInput={(e) => setTyped(e.currentTarget.value)}
      />
      <datalist id="agent-switch-ids">
        {(agents.data?.items ?? []).map((a) => (
          <option key={a.agent_id} value={a.agent_id} />
        ))}
      </datalist>
      <button type="submit">Switch</button>
    </form>
  );
}
