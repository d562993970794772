import { describe, expect, it } from 'vitest';
import { grantsFromClaim, matchesGlob, maySendTo } from './grants.js';

describe('send:<glob> patterns', () => {
  it.each([
    ['billing.*', 'billing.api', true],
    ['billing.*', 'billing.', true],
    ['billing.*', 'billingapi', false],
    ['billing.*', 'auth.billing.api', false],
    ['*.api', 'billing.api', true],
    ['*', 'anything', true],
    ['b*g.*i', 'billing.api', true],
    ['exact', 'exact', true],
    ['exact', 'exact2', false],
    ['', 'x', false],
  ])('%s against %s is %s', (glob, id, expected) => {
    expect(matchesGlob(glob, id)).toBe(expected);
  });

  it('stays fast on a pattern built to make a regular expression backtrack', () => {
    const glob = `${'*a'.repeat(60)}b`;
    const started = performance.now();
    expect(matchesGlob(glob, 'a'.repeat(128))).toBe(false);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('the permissions claim', () => {
  it('means send and pull when absent', () => {
    expect(grantsFromClaim(undefined)).toEqual({ pull: true, send: 'anyone', manage: false });
  });

  it('grants exactly what it lists', () => {
    const grants = grantsFromClaim(['send:billing.*', 'audit']);
    expect(grants).toEqual({ pull: false, send: ['billing.*'], manage: false });
    if (typeof grants !== 'object') throw new Error('expected grants');
    expect(maySendTo(grants, 'billing.api')).toBe(true);
    expect(maySendTo(grants, 'auth.backend')).toBe(false);
    expect(grantsFromClaim([])).toEqual({ pull: false, send: [], manage: false });
  });

  it('makes a token with admin an admin token', () => {
    expect(grantsFromClaim(['pull', 'admin'])).toBe('admin');
  });

  it.each([
    ['a string', 'send'],
    ['numbers', [1]],
    ['an object', { send: true }],
    ['101 entries', Array(101).fill('pull')],
  ])('is malformed as %s', (_, claim) => {
    expect(grantsFromClaim(claim)).toBeUndefined();
  });
});
