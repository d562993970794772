import { describe, expect, it } from 'vitest';
import { OTHER_AGENTS, SeriesGuard } from './series-guard.js';

describe('the series guard', () => {
  it('keeps label sets as they are until the metric is full, then folds agent labels into _other', () => {
    const guard = new SeriesGuard(2);
    expect(guard.admit({ from: 'a', to: 'b', type: 'event' }, ['from', 'to'])).toEqual({
      from: 'a',
      to: 'b',
      type: 'event',
    });
    expect(guard.admit({ from: 'a', to: 'c', type: 'event' }, ['from', 'to'])).toEqual({
      from: 'a',
      to: 'c',
      type: 'event',
    });
    expect(guard.admit({ from: 'x', to: 'y', type: 'event' }, ['from', 'to'])).toEqual({
      from: OTHER_AGENTS,
      to: OTHER_AGENTS,
      type: 'event',
    });
    // A set seen before the limit keeps its own series.
    expect(guard.admit({ from: 'a', to: 'b', type: 'event' }, ['from', 'to'])).toEqual({
      from: 'a',
      to: 'b',
      type: 'event',
    });
  });
});
