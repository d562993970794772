/** One scrape: every sample by name, with its labels. */
export interface Scrape {
  samples: { name: string; labels: Record<string, string>; value: number }[];
  /** The sum of the samples of `name` whose labels include `where`. */
  sum(name: string, where?: Record<string, string>): number;
  names(): Set<string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus' text format as far as the relay's tests need: samples, not HELP or TYPE. */
export function parsePrometheus(text: string): Scrape {
  const samples = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = SAMPLE.exec(line);
      if (!match) throw new Error(`not a Prometheus sample: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, name, value] of (match[2] ?? '').matchAll(LABEL))
        labels[name as string] = value as string;
      return { name: match[1] as string, labels, value: Number(match[3]) };
    });
  return {
    samples,
    sum: (name, where = {}) =>
      samples
        .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
        .reduce((total, s) => total + s.value, 0),
    names: () => new Set(samples.map((s) => s.name)),
  };
}
