import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  hmacSignature,
  importSigningKey,
  publicKeyOf,
  signEnvelope,
  verifyEnvelope,
} from '../src/index.js';
import { signatureBaseString } from '../src/signing.js';

// The cross-language vectors every implementation must reproduce byte for byte.
const vectors = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../spec/test-vectors/${name}`, import.meta.url), 'utf8'));

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('hex');
}

describe('canonical JSON (RFC 8785)', () => {
  const { cases } = vectors('canonical-json.json');
  for (const c of cases) {
    it(`${c.name}`, async () => {
      const canonical = canonicalJson(JSON.parse(c.input));
      expect(canonical).toBe(c.canonical);
      expect(await sha256Hex(canonical)).toBe(c.sha256);
    });
  }
});

describe('Ed25519 envelope signatures', () => {
  const v = vectors('ed25519.json');
  it('derives the vectors’ public key from the seed', async () => {
    expect(await publicKeyOf(v.seed)).toBe(v.public_key);
  });
  for (const c of v.cases) {
    it(`${c.name}`, async () => {
      if (c.body_canonical) expect(canonicalJson(c.envelope.body)).toBe(c.body_canonical);
      if (c.base_string) expect(await signatureBaseString(c.envelope)).toBe(c.base_string);
      const signed = { ...c.envelope, signature: { alg: 'ed25519', kid: v.kid, sig: c.signature } };
      expect(await verifyEnvelope(signed, v.x)).toBe(c.valid);
      if (c.valid) {
        const signature = await signEnvelope(c.envelope, await importSigningKey(v.seed), v.kid);
        expect(signature).toEqual({ alg: 'ed25519', kid: v.kid, sig: c.signature });
      }
    });
  }
});

describe('HMAC request signatures', () => {
  const v = vectors('hmac.json');
  for (const c of v.cases) {
    it(`${c.name}`, async () => {
      expect(await sha256Hex(c.body)).toBe(c.body_sha256);
      expect(await hmacSignature(v.secret, c.timestamp, c.method, c.path, c.body)).toBe(c.signature);
    });
  }
});
