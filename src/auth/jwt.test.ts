import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { type JwtSettings, JwtVerifier } from './jwt.js';

const NONE: JwtSettings = {
  secret: undefined,
  publicKey: undefined,
  jwksUrl: undefined,
  issuer: undefined,
  audience: undefined,
};
const algs = ['EdDSA', 'ES256', 'RS256'] as const;

async function tokenFor(alg: string, key: CryptoKey | Uint8Array, claims: Record<string, unknown> = {}) {
  return new SignJWT({ exp: Math.floor(Date.now() / 1000) + 60, sub: 'pk.agent', ...claims })
    .setProtectedHeader({ alg })
    .sign(key);
}

describe('JWT_PUBLIC_KEY given as a JWK', () => {
  it.each(algs)('takes the algorithm of a %s key from its kty when the JWK names none', async (alg) => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const { alg: _named, ...jwk } = await exportJWK(pair.publicKey);
    const verifier = new JwtVerifier({ ...NONE, publicKey: JSON.stringify(jwk) });
    await verifier.ready;
    const identity = await verifier.verify(await tokenFor(alg, pair.privateKey), Date.now());
    expect(identity).toMatchObject({ kind: 'agent', agentId: 'pk.agent' });
  });

  it('refuses to start on a JWK that is not an Ed25519, P-256 or RSA public key', async () => {
    const verifier = new JwtVerifier({ ...NONE, publicKey: JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }) });
    await expect(verifier.ready).rejects.toThrow(
      'JWT_PUBLIC_KEY: the JWK must be an Ed25519, P-256 or RSA key',
    );
    // Tokens meet an invalid key, never a 500.
    const secret = new TextEncoder().encode('s'.repeat(32));
    await expect(verifier.verify(await tokenFor('HS256', secret), Date.now())).rejects.toMatchObject({
      reason: 'invalid_jwt',
    });
  });

  it('refuses to start on text that is neither a JWK nor a PEM public key', async () => {
    const verifier = new JwtVerifier({ ...NONE, publicKey: 'not a key' });
    await expect(verifier.ready).rejects.toThrow('JWT_PUBLIC_KEY: not a PEM public key');
  });
});

describe('JWT claims', () => {
  const secret = 's'.repeat(32);
  const verifier = new JwtVerifier({ ...NONE, secret });
  const key = new TextEncoder().encode(secret);

  it('refuses a sub that is not an agent id and a permissions claim that is not a list of strings', async () => {
    await expect(
      verifier.verify(await tokenFor('HS256', key, { sub: 'not an agent!' }), Date.now()),
    ).rejects.toMatchObject({ reason: 'invalid_jwt', message: 'the JWT sub claim must be an agent id' });
    await expect(
      verifier.verify(await tokenFor('HS256', key, { permissions: 'send' }), Date.now()),
    ).rejects.toMatchObject({
      reason: 'invalid_jwt',
      message: 'the JWT permissions claim must be an array of strings',
    });
  });
});

describe('a JWKS endpoint that cannot be reached', () => {
  it('makes a token unverifiable for now (503 unavailable), not invalid', async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const verifier = new JwtVerifier({ ...NONE, jwksUrl: 'http://127.0.0.1:9/jwks.json' });
    const pair = await generateKeyPair('EdDSA');
    const token = await tokenFor('EdDSA', pair.privateKey);
    await expect(verifier.verify(token, Date.now())).rejects.toMatchObject({ code: 'unavailable' });
  });
});
