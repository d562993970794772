interface Entry<V> {
  value: Promise<V | undefined>;
  loadedAt: number;
}

/**
 * Rows the hot path needs on every request (an agent's tier and HMAC key, a signing key),
 * loaded once and trusted for `ttlMs`: that bounds how long a change made by another relay
 * process goes unseen, while this process evicts at once. Concurrent misses share one load.
 * Nothing unknown is cached, so a key registered on another process works there at once.
 */
export class LoadingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(
    private readonly load: (key: string) => Promise<V | undefined>,
    readonly ttlMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, now: number): Promise<V | undefined> {
    const hit = this.entries.get(key);
    if (hit && now - hit.loadedAt < this.ttlMs) return hit.value;
    const value = this.load(key);
    const entry = { value, loadedAt: now };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    value.then((v) => v === undefined && forget(), forget);
    return value;
  }

  evict(match: (key: string) => boolean): void {
    for (const key of this.entries.keys()) if (match(key)) this.entries.delete(key);
  }
}
