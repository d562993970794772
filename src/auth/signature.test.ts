import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import vectors from '../../spec/test-vectors/ed25519.json' with { type: 'json' };
import { sha256Hex } from '../envelope.js';
import { fromBase64, toBase64, toBase64Url } from './crypto.js';
import { readPublicKey, signatureBaseString, verifySignature } from './signature.js';

const seed = Uint8Array.from(Buffer.from(vectors.seed, 'hex'));
const publicKey = fromBase64(vectors.public_key);

describe('Ed25519 envelope signatures (spec/test-vectors/ed25519.json)', () => {
  it('derives the public key and its directory form from the seed', () => {
    expect(toBase64(ed.getPublicKey(seed))).toBe(vectors.public_key);
    expect(toBase64Url(publicKey)).toBe(vectors.x);
  });

  it.each(vectors.cases)('$name', (c) => {
    expect(signatureBaseString(c.envelope)).toBe(c.base_string);
    expect(verifySignature(publicKey, c.signature, c.envelope)).toBe(c.valid);
    if (c.valid) {
      expect(sha256Hex(c.body_canonical ?? '')).toBe(c.body_sha256);
      expect(toBase64(ed.sign(new TextEncoder().encode(c.base_string), seed))).toBe(c.signature);
    }
  });
});

describe('public keys and signatures the relay refuses', () => {
  it('accepts only a standard-base64 32-byte point on the curve', () => {
    expect(readPublicKey(vectors.public_key)).toEqual(publicKey);
    expect(readPublicKey(vectors.x)).toBeUndefined();
    expect(readPublicKey(toBase64(new Uint8Array(31)))).toBeUndefined();
    // y = 2 has no x on the curve.
    expect(readPublicKey(toBase64(Uint8Array.from([2, ...new Uint8Array(31)])))).toBeUndefined();
    // y = 1 is the identity, under which R = identity, S = 0 would verify any message.
    expect(readPublicKey(toBase64(Uint8Array.from([1, ...new Uint8Array(31)])))).toBeUndefined();
  });

  it('refuses a second encoding of a valid signature, S + L, so signatures cannot be re-encoded', () => {
    const [first] = vectors.cases;
    const sig = fromBase64(first?.signature as string);
    // S and S + L satisfy the same equation; only S < L is a valid encoding.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const s = sig.slice(32).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n) + L;
    const bumped = Uint8Array.from([
      ...sig.slice(0, 32),
      ...Array.from({ length: 32 }, (_, i) => Number((s >> BigInt(8 * i)) & 255n)),
    ]);
    expect(verifySignature(publicKey, toBase64(bumped), first?.envelope as never)).toBe(false);
  });

  it('treats garbage as a failed signature rather than an error', () => {
    const [first] = vectors.cases;
    expect(verifySignature(publicKey, 'not base64!', first?.envelope as never)).toBe(false);
    expect(verifySignature(publicKey, toBase64(new Uint8Array(64)), first?.envelope as never)).toBe(false);
  });
});
