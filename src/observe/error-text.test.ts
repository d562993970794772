import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { errorText, errorTrace } from './error-text.js';

describe('errorText', () => {
  it("gives a failed query's driver error, not the statement and its parameters", () => {
    const driver = Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
    const wrapped = new DrizzleQueryError('insert into messages values ($1)', ['x'.repeat(200_000)], driver);
    expect(errorText(wrapped)).toBe('Error: Connection terminated unexpectedly (57P01)');
    expect(errorTrace(wrapped)).not.toContain('xxxx');
  });

  it('cuts a long message, saying how long it was', () => {
    const text = errorText(new Error('y'.repeat(10_000)));
    expect(text.length).toBeLessThan(600);
    expect(text).toContain('(10007 characters)');
  });

  it('describes what is thrown that is not an Error', () => {
    expect(errorText('gone')).toBe('gone');
    expect(errorText(new DrizzleQueryError('select 1', []))).toBe('query failed');
  });
});
