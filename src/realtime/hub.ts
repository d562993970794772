/**
 * How an inbox changed: a message became ready (a SEND, a NACK, a lease that ran out), a leased
 * one was acked (or replied to), or one went dead.
 */
export type InboxChange = 'ready' | 'acked' | 'dead';

const INBOX_CHANGES: readonly InboxChange[] = ['ready', 'acked', 'dead'];

/** A change read off the wire; an unknown or missing one is a wake all the same. */
export const inboxChange = (text: string | null | undefined): InboxChange =>
  INBOX_CHANGES.find((change) => change === text) ?? 'ready';

/**
 * Tells whoever waits on an inbox (a long-poll, a WebSocket, an event stream) that it changed.
 * A wake is only a hint; the waiter leases through the database as usual, so a lost or
 * spurious wake costs latency or one query, never a message.
 */
export interface Hub {
  /** Never waits and never throws: callers are on the request's hot path. */
  notify(agentId: string, change: InboxChange): void;
  /** Calls `wake` after every notify of this inbox, from this process or another, until unwatched. */
  watch(agentId: string, wake: (change: InboxChange) => void): () => void;
  /** Whether `watch` hears every notify of the relay, or only those of this isolate (Workers). */
  readonly hearsEveryProcess: boolean;
  close(): Promise<void>;
}

/** Wakes waiters in this process only: enough when one process owns the database (PGlite). */
export class LocalHub implements Hub {
  private readonly watchers = new Map<string, Set<(change: InboxChange) => void>>();
  readonly hearsEveryProcess = true;

  notify(agentId: string, change: InboxChange): void {
    const set = this.watchers.get(agentId);
    if (!set) return;
    // Later, not now: a waiter's work must not run inside the notifier's request.
    for (const wake of set) queueMicrotask(() => wake(change));
  }

  watch(agentId: string, wake: (change: InboxChange) => void): () => void {
    let set = this.watchers.get(agentId);
    if (!set) {
      set = new Set();
      this.watchers.set(agentId, set);
    }
    // A wrapper, so one function watching twice is two watches.
    const entry = (change: InboxChange) => wake(change);
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.watchers.get(agentId) === set) this.watchers.delete(agentId);
    };
  }

  /** Every watched inbox, for a hub that may have missed notifies (a dropped LISTEN connection). */
  wakeAll(): void {
    for (const agentId of this.watchers.keys()) this.notify(agentId, 'ready');
  }

  watchedCount(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }
}
