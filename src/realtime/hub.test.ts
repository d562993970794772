import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DUE_SLACK_MS, inboxChange, LocalHub } from './hub.js';

describe('LocalHub', () => {
  let hub: LocalHub;
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    hub = new LocalHub();
  });
  afterEach(async () => {
    await hub.close();
    vi.useRealTimers();
  });

  it('wakes an inbox at each delayed message’s time, earliest first, in whatever order they came', async () => {
    const woken: number[] = [];
    hub.watch('a', () => woken.push(Date.now()));
    for (const at of [3000, 1000, 2000, 2000]) hub.notify('a', 'ready', at);
    await vi.advanceTimersByTimeAsync(5000);
    expect(woken).toEqual([1000, 2000, 3000].map((at) => at + DUE_SLACK_MS));
  });

  it('wakes a watcher that came after the notify, and only the inbox that was notified', async () => {
    hub.notify('a', 'ready', 1000);
    const a = vi.fn();
    const b = vi.fn();
    hub.watch('a', a);
    hub.watch('b', b);
    await vi.advanceTimersByTimeAsync(2000);
    expect(a).toHaveBeenCalledExactlyOnceWith('ready');
    expect(b).not.toHaveBeenCalled();
  });

  it('wakes at once for a time already past, stops waking once unwatched, and forgets wakes on close', async () => {
    const wake = vi.fn();
    const unwatch = hub.watch('a', wake);
    hub.notify('a', 'acked', 0);
    await vi.advanceTimersByTimeAsync(0);
    expect(wake).toHaveBeenCalledExactlyOnceWith('acked');
    unwatch();
    hub.notify('a', 'ready');
    expect(hub.watchedCount()).toBe(0);

    hub.watch('a', wake);
    hub.notify('a', 'ready', 1000);
    await hub.close();
    await vi.advanceTimersByTimeAsync(2000);
    expect(wake).toHaveBeenCalledTimes(1);
  });

  it('reads a change off the wire, taking an unknown or missing one as ready', () => {
    expect(['dead', 'acked', 'ready', 'moved', '', null, undefined].map(inboxChange)).toEqual([
      'dead',
      'acked',
      'ready',
      'ready',
      'ready',
      'ready',
      'ready',
    ]);
  });
});
