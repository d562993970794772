import { describe, expect, it } from 'vitest';
import vectors from '../../spec/test-vectors/hmac.json' with { type: 'json' };
import { AuthFailure } from './failure.js';
import { importHmacKey, readHmacHeaders, requireFresh, stringToSign, verifyHmac } from './hmac.js';

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe('HMAC request signatures (spec/test-vectors/hmac.json)', () => {
  it.each(vectors.cases)('$name', async (c) => {
    const message = stringToSign(c.timestamp, c.method, c.path, new TextEncoder().encode(c.body));
    expect(message).toBe(c.string_to_sign);
    const key = await importHmacKey(vectors.secret);
    expect(await verifyHmac(key, c.signature, message)).toBe(true);
    expect(await verifyHmac(key, c.signature, `${message} `)).toBe(false);
  });
});

describe('HMAC headers', () => {
  const valid = { 'x-agent-id': 'auth.backend', 'x-timestamp': '1761240600', 'x-signature': 'a'.repeat(64) };

  it('means "not HMAC" when none of the three headers is present', () => {
    expect(readHmacHeaders(headers({}))).toBeUndefined();
  });

  it.each([
    ['a missing signature', { ...valid, 'x-signature': undefined }],
    [
      'an uppercase signature, which would dodge the replay check',
      { ...valid, 'x-signature': 'A'.repeat(64) },
    ],
    ['a short signature', { ...valid, 'x-signature': 'a'.repeat(63) }],
    ['a timestamp in milliseconds as a float', { ...valid, 'x-timestamp': '1761240600.5' }],
    ['an agent id with a slash', { ...valid, 'x-agent-id': 'a/b' }],
  ])('refuses %s as malformed credentials', (_, h) => {
    const read = () => readHmacHeaders(headers(h as Record<string, string>));
    expect(read).toThrow(AuthFailure);
    expect(read).toThrow(expect.objectContaining({ reason: 'malformed_credentials' }));
  });

  it('accepts a timestamp 300 seconds off and refuses one 301 seconds off', () => {
    const h = readHmacHeaders(headers(valid));
    if (!h) throw new Error('expected headers');
    expect(() => requireFresh(h, (1761240600 + 300) * 1000)).not.toThrow();
    expect(() => requireFresh(h, (1761240600 - 300) * 1000)).not.toThrow();
    expect(() => requireFresh(h, (1761240600 + 301) * 1000)).toThrow(
      expect.objectContaining({ reason: 'stale_timestamp' }),
    );
  });
});
