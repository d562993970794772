/** What an agent-valued label reads once its metric has as many series as it may keep. */
export const OTHER_AGENTS = '_other';

/**
 * Bounds the series of one metric. Agent ids are label values (FR-37 asks for them), and a relay
 * may serve any number of agents: once a metric holds `maxSeries` label combinations, any new
 * combination is folded into one whose agent labels read `_other`, so a scrape stays small and
 * Prometheus' memory bounded however many agents come and go.
 */
export class SeriesGuard {
  private readonly seen = new Set<string>();

  constructor(private readonly maxSeries: number) {}

  /** `labels` with the names in `agentLabels` replaced by `_other` when the metric is full. */
  admit<L extends Record<string, string>>(labels: L, agentLabels: readonly (keyof L)[]): L {
    const key = Object.values(labels).join('\u0000');
    if (this.seen.has(key)) return labels;
    if (this.seen.size < this.maxSeries) {
      this.seen.add(key);
      return labels;
    }
    const folded = { ...labels };
    for (const name of agentLabels) (folded as Record<keyof L, string>)[name] = OTHER_AGENTS;
    return folded;
  }
}
