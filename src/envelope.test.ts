import { describe, expect, it } from 'vitest';
import vectors from '../spec/test-vectors/canonical-json.json' with { type: 'json' };
import { canonicalJson, sha256Hex } from './envelope.js';

describe('canonical JSON (spec/test-vectors/canonical-json.json)', () => {
  it.each(vectors.cases)('$name', ({ input, canonical, sha256 }) => {
    const out = canonicalJson(JSON.parse(input));
    expect(out).toBe(canonical);
    expect(sha256Hex(out)).toBe(sha256);
  });
});
