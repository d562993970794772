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
        {(
          [
            ['Ready', 'ready', s?.ready],
            ['Leased', 'leased', s?.leased],
            ['Dead', 'dead', s?.dead],
            ['Oldest', 'oldest', s ? age(s.oldest_age_sec) : undefined],
          ] as const
        ).map(([label, name, value]) => (
          <div key={name}>
            <dt>{label}</dt>
            <dd data-stat={name}>{value ?? '—'}</dd>
          </div>
        ))}
      </dl>
      <ErrorNote error={stats.error} />
    </section>
  );
}
