/**
 * Wakes whoever waits on an inbox (a long-poll, a WebSocket) when a message may have become
 * ready there: after a SEND, a NACK, a REPLY, a broadcast, or a sweep that returned leases.
 * A wake is only a hint; the waiter leases through the database as usual, so a lost or
 * spurious wake costs latency or one query, never a message.
 */
export interface Hub {
  /**
   * Never waits and never throws: callers are on the request's hot path. With `at` (epoch ms, a
   * delayed SEND or a NACK with back-off), the wake comes when the message becomes ready.
   */
  notify(agentId: string, at?: number): void;
  /** Calls `wake` after every notify of this inbox, from this process or another, until unwatched. */
  watch(agentId: string, wake: () => void): () => void;
  close(): Promise<void>;
}

// A timer may fire a millisecond early, and the database must already see the message as ready.
export const DUE_SLACK_MS = 5;

/** The times an inbox has messages becoming ready, earliest first, and the timer for the earliest. */
interface Due {
  times: number[];
  timer: ReturnType<typeof setTimeout>;
}

/** Wakes waiters in this process only: enough when one process owns the database (PGlite). */
export class LocalHub implements Hub {
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly due = new Map<string, Due>();

  notify(agentId: string, at?: number): void {
    if (at !== undefined && at > Date.now()) {
      this.wakeAt(agentId, at);
      return;
    }
    const set = this.watchers.get(agentId);
    if (!set) return;
    // Later, not now: a waiter's work must not run inside the notifier's request.
    for (const wake of set) queueMicrotask(wake);
  }

  watch(agentId: string, wake: () => void): () => void {
    let set = this.watchers.get(agentId);
    if (!set) {
      set = new Set();
      this.watchers.set(agentId, set);
    }
    // A wrapper, so one function watching twice is two watches.
    const entry = () => wake();
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0 && this.watchers.get(agentId) === set) this.watchers.delete(agentId);
    };
  }

  /**
   * One timer per inbox, for its earliest delayed message: a waiter that comes later (a WebSocket
   * opened meanwhile) is woken too, and nothing polls in between.
   */
  private wakeAt(agentId: string, at: number): void {
    const due = this.due.get(agentId);
    if (!due) {
      this.due.set(agentId, { times: [at], timer: this.arm(agentId, at) });
      return;
    }
    const i = sortedIndex(due.times, at);
    if (due.times[i] === at) return;
    due.times.splice(i, 0, at);
    if (i === 0) {
      clearTimeout(due.timer);
      due.timer = this.arm(agentId, at);
    }
  }

  private arm(agentId: string, at: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => this.fire(agentId), Math.max(0, at - Date.now()) + DUE_SLACK_MS);
    // A pending wake must not keep a Node process from exiting.
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  private fire(agentId: string): void {
    const due = this.due.get(agentId);
    if (!due) return;
    const now = Date.now();
    while (due.times.length > 0 && (due.times[0] as number) <= now) due.times.shift();
    const next = due.times[0];
    if (next === undefined) this.due.delete(agentId);
    else due.timer = this.arm(agentId, next);
    this.notify(agentId);
  }

  /** Every watched inbox, for a hub that may have missed notifies (a dropped LISTEN connection). */
  wakeAll(): void {
    for (const agentId of this.watchers.keys()) this.notify(agentId);
  }

  watchedCount(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  async close(): Promise<void> {
    this.watchers.clear();
    for (const due of this.due.values()) clearTimeout(due.timer);
    this.due.clear();
  }
}

/** Where `value` belongs in the ascending `sorted`. */
function sortedIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
