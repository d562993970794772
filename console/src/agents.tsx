import { useEffect, useState } from 'preact/hooks';
import type { AgentSummary, Relay } from './api';
import { when } from './format';
import { ErrorNote } from './relay-error';
import { useResource } from './use-resource';

/** Inbox depth (ready messages) of one agent; blank where this key may not read that inbox. */
function Depth({ relay, agentId, revision }: { relay: Relay; agentId: string; revision: number }) {
  const stats = useResource(() => relay.stats(agentId), [relay, agentId, revision]);
  return <>{stats.data ? stats.data.ready : '—'}</>;
}

// Presence changes slowly and each row costs a STATS call, so this view refreshes on its own
// slow clock rather than on every event of the watched inbox.
const REFRESH_MS = 10_000;

/** The agents this key may see (admin: all; an agent: those it may send to), and who is online. */
export function AgentsView({
  relay,
  onChoose,
}: {
  relay: Relay;
  onChoose: ((agentId: string) => void) | null;
}) {
  const [revision, setRevision] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setRevision((r) => r + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const self = relay.session.agentId;
  const agents = useResource(() => relay.agents(), [relay, revision]);
  return (
    <section aria-labelledby="agents-title">
      <h2 id="agents-title" tabIndex={-1}>
        Agents
      </h2>
      <ErrorNote error={agents.error} />
      <table class="agents">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Presence</th>
            <th scope="col">Last seen</th>
            <th scope="col">Inbox depth</th>
          </tr>
        </thead>
        <tbody>
          {(agents.data?.items ?? []).map((a: AgentSummary) => (
            <tr key={a.agent_id} data-agent-id={a.agent_id}>
              <th scope="row">
                {onChoose ? (
                  <button type="button" class="link" onClick={() => onChoose(a.agent_id)}>
                    {a.agent_id}
                  </button>
                ) : (
                  a.agent_id
                )}
              </th>
              <td data-label="Presence">
                <span class={a.online ? 'online' : 'offline'}>{a.online ? 'online' : 'offline'}</span>
              </td>
              <td data-label="Last seen">{when(a.last_seen)}</td>
              <td data-label="Inbox depth">
                {self === null || self === a.agent_id ? (
                  <Depth relay={relay} agentId={a.agent_id} revision={revision} />
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
