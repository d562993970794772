/**
 * Latency statistics shared by the bench scripts. Samples are milliseconds held in a Float64Array,
 * so recording a million operations costs 8 MB and no allocation per sample. `summarize` sorts a
 * copy and reads percentiles by the nearest-rank method (the smallest sample with at least p% of
 * all samples at or below it): every reported figure is a latency that was actually observed, with
 * no interpolation between samples. An empty set summarizes to count 0 and NaN for the rest, which
 * JSON.stringify writes as null instead of inventing a zero latency.
 */

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** `sorted` must be in ascending order; `p` is a percentage in (0, 100]. */
export function percentile(sorted: Float64Array, p: number): number {
  // Multiplying before dividing keeps integer percentages exact (0.07 * 100 is not 7 in floating point).
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarize(samples: Float64Array): Summary {
  const sorted = samples.slice().sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** An append-only list of samples that doubles its buffer when full, so callers need not know the count. */
export class LatencyLog {
  private samples: Float64Array;
  private length = 0;

  constructor(initialCapacity = 1024) {
    this.samples = new Float64Array(Math.max(1, initialCapacity));
  }

  record(ms: number): void {
    if (this.length === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.length++] = ms;
  }

  summarize(): Summary {
    return summarize(this.samples.subarray(0, this.length));
  }

  /** One log holding every sample of `logs`, e.g. the rounds of one leg pooled. */
  static merge(logs: readonly LatencyLog[]): LatencyLog {
    const merged = new LatencyLog(logs.reduce((sum, log) => sum + log.length, 0));
    for (const log of logs) {
      merged.samples.set(log.samples.subarray(0, log.length), merged.length);
      merged.length += log.length;
    }
    return merged;
  }
}
