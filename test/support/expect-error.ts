import { expect } from 'vitest';

/** Asserts the SPEC's error shape: this status, this code, and a human sentence. */
export function expectError(r: { status: number; body: any }, status: number, code: string): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(typeof r.body.error.message).toBe('string');
}
