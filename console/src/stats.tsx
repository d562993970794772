import type { InboxStats } from './api';
import { age } from './format';
import { ErrorNote } from './relay-error';
import type { Resource } from './use-resource';

/** STATS of the inbox in view, refreshed with the live updates. */
export function Stats({ stats }: { stats: Resource<InboxStats | undefined> }) {
  const s = stats.data;
  return (
    <section class="stats" aria-label="Inbox stats">
      <dl>
        <div>
          <dt>Ready</dt>
          <dd data-stat="ready">{s?.ready ?? '—'}</dd>
        </div>
        <div>
          <dt>Leased</dt>
          <dd data-stat="leased">{s?.leased ?? '—'}</dd>
        </div>
        <div>
          <dt>Dead</dt>
          <dd data-stat="dead">{s?.dead ?? '—'}</dd>
        </div>
        <div>
          <dt>Oldest</dt>
          <dd data-stat="oldest">{age(s?.oldest_age_sec)}</dd>
        </div>
      </dl>
      <ErrorNote error={stats.error} />
    </section>
  );
}
