import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hs256, JWT_SECRET } from './support/credentials.js';
import { expectError } from './support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'admp-relay';

let relay: TestRelay;
let billing: Agent;
beforeAll(async () => {
  relay = await startTestRelay({ JWT_SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
  billing = await relay.registerAgent('billing.api');
  await relay.registerAgent('billing.audit');
  await relay.registerAgent('auth.backend');
});
afterAll(() => relay.close());

const token = (sub: string, claims: Record<string, unknown> = {}) =>
  hs256(sub, { iss: ISSUER, aud: AUDIENCE, ...claims });
const sendAs = async (jwt: string, from: string, to: string) =>
  relay.call('POST', `/v1/agents/${to}/messages`, { token: jwt, body: envelope(from, to) });

describe('JWT bearer tokens (HS256)', () => {
  it('act for their sub with send and pull when they carry no permissions claim', async () => {
    const jwt = await token('billing.api');
    expect((await sendAs(jwt, 'billing.api', 'auth.backend')).status).toBe(201);
    await relay.send(billing, 'billing.api');
    expect((await relay.call('POST', '/v1/agents/billing.api/inbox/pull', { token: jwt })).status).toBe(200);
  });

  it('are refused once expired, with a message that says so', async () => {
    const now = Math.floor(Date.now() / 1000);
    const r = await relay.call('GET', '/v1/agents/billing.api/inbox/stats', {
      token: await token('billing.api', { iat: now - 600, exp: now - 60 }),
    });
    expectError(r, 401, 'unauthorized');
    expect(r.body.error.message).toContain('expired');
  });

  it.each([
    ['before nbf', { nbf: Math.floor(Date.now() / 1000) + 600 }],
    ['from another issuer', { iss: 'https://evil.example.com' }],
    ['for another audience', { aud: 'another-service' }],
    ['without exp', { exp: undefined }],
    ['with a sub that is not an agent id', { sub: 'agent://billing.api' }],
    ['with a permissions claim that is not a list', { permissions: 'send' }],
  ])('are refused %s', async (_, claims) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'billing.api', exp: now + 60, ...claims };
    const jwt = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(JWT_SECRET));
    expectError(
      await relay.call('GET', '/v1/agents/billing.api/inbox/stats', { token: jwt }),
      401,
      'unauthorized',
    );
  });

  it('are refused when signed with another secret, altered, or unsigned', async () => {
    const forged = await hs256(
      'billing.api',
      { iss: ISSUER, aud: AUDIENCE },
      'another-secret-0123456789abcdef-0123456789',
    );
    expectError(await relay.call('GET', '/v1/agents/billing.api', { token: forged }), 401, 'unauthorized');
    const [header, , sig] = (await token('billing.api')).split('.');
    const body = Buffer.from(
      JSON.stringify({ sub: 'auth.backend', iss: ISSUER, aud: AUDIENCE, exp: 4e9 }),
    ).toString('base64url');
    expectError(
      await relay.call('GET', '/v1/agents/auth.backend', { token: `${header}.${body}.${sig}` }),
      401,
      'unauthorized',
    );
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    expectError(await relay.call('GET', '/v1/agents/auth.backend', { token: none }), 401, 'unauthorized');
  });

  it('are refused for an agent the relay does not know', async () => {
    expectError(
      await relay.call('GET', '/v1/agents/ghost', { token: await token('ghost') }),
      401,
      'unauthorized',
    );
  });
});

describe('JWT permissions', () => {
  it('refuse PULL, ACK and STATS to a token with only send', async () => {
    const jwt = await token('billing.api', { permissions: ['send'] });
    expect((await sendAs(jwt, 'billing.api', 'auth.backend')).status).toBe(201);
    for (const [method, path] of [
      ['POST', '/v1/agents/billing.api/inbox/pull'],
      ['GET', '/v1/agents/billing.api/inbox/stats'],
      ['POST', `/v1/agents/billing.api/messages/${crypto.randomUUID()}/ack`],
      ['POST', '/v1/agents/billing.api/inbox/reclaim'],
    ] as const) {
      const r = await relay.call(method, path, { token: jwt });
      expectError(r, 403, 'forbidden');
      expect(r.body.error.message).toContain('pull');
    }
  });

  it('refuse SEND to a token with only pull', async () => {
    const jwt = await token('billing.api', { permissions: ['pull'] });
    expectError(await sendAs(jwt, 'billing.api', 'auth.backend'), 403, 'forbidden');
    expect((await relay.call('GET', '/v1/agents/billing.api/inbox/stats', { token: jwt })).status).toBe(200);
  });

  it('limit send:<glob> to recipients matching the glob: sending to a restricted recipient is 403', async () => {
    const jwt = await token('billing.api', { permissions: ['send:billing.*'] });
    expect((await sendAs(jwt, 'billing.api', 'billing.audit')).status).toBe(201);
    const r = await sendAs(jwt, 'billing.api', 'auth.backend');
    expectError(r, 403, 'forbidden');
    expect(r.body.error.message).toContain('auth.backend');
  });

  it('never let a token send as another agent', async () => {
    const jwt = await token('billing.api', { permissions: ['send'] });
    expectError(await sendAs(jwt, 'auth.backend', 'billing.audit'), 403, 'sender_mismatch');
  });

  it('keep a non-admin token away from keys, even its own agent’s', async () => {
    const jwt = await token('billing.api');
    expectError(
      await relay.call('POST', '/v1/agents/billing.api/api-keys', { token: jwt, body: {} }),
      403,
      'forbidden',
    );
    expectError(await relay.call('DELETE', '/v1/agents/billing.api', { token: jwt }), 403, 'forbidden');
    expect((await relay.call('GET', '/v1/agents/billing.api', { token: jwt })).status).toBe(200);
  });

  it('make a token with admin an admin, for any agent', async () => {
    const jwt = await token('ops.console', { permissions: ['admin'] });
    const r = await relay.call('POST', '/v1/agents', { token: jwt, body: { agent_id: 'made.by.jwt' } });
    expect(r.status).toBe(201);
    expect((await relay.call('GET', '/v1/agents/billing.api/inbox/stats', { token: jwt })).status).toBe(200);
  });
});

describe('JWTs signed with public-key algorithms', () => {
  let jwks: Server;
  let keys: Record<'EdDSA' | 'ES256' | 'RS256', CryptoKey>;
  let jwksRelay: TestRelay;
  let pemRelay: TestRelay;
  const algs = ['EdDSA', 'ES256', 'RS256'] as const;

  beforeAll(async () => {
    const pairs = await Promise.all(algs.map((alg) => generateKeyPair(alg, { extractable: true })));
    keys = Object.fromEntries(algs.map((alg, i) => [alg, pairs[i]?.privateKey])) as typeof keys;
    const published = await Promise.all(
      algs.map(async (alg, i) => ({ ...(await exportJWK(pairs[i]?.publicKey as CryptoKey)), kid: alg, alg })),
    );
    jwks = createServer((_, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    jwksRelay = await startTestRelay({ JWT_JWKS_URL: url });
    pemRelay = await startTestRelay({ JWT_PUBLIC_KEY: await exportSPKI(pairs[2]?.publicKey as CryptoKey) });
    await jwksRelay.registerAgent('pk.agent');
    await pemRelay.registerAgent('pk.agent');
  });
  afterAll(async () => {
    jwks.close();
    await jwksRelay.close();
    await pemRelay.close();
  });

  const signed = (alg: (typeof algs)[number], claims: Record<string, unknown> = {}) =>
    new SignJWT({ exp: Math.floor(Date.now() / 1000) + 60, ...claims })
      .setProtectedHeader({ alg, kid: alg })
      .setSubject('pk.agent')
      .sign(keys[alg]);

  it.each(algs)('accepts %s tokens whose key the JWKS endpoint publishes', async (alg) => {
    const r = await jwksRelay.call('GET', '/v1/agents/pk.agent/inbox/stats', { token: await signed(alg) });
    expect(r.status).toBe(200);
  });

  it('accepts RS256 tokens under a PEM JWT_PUBLIC_KEY, and refuses an HS256 token keyed with that PEM', async () => {
    expect((await pemRelay.call('GET', '/v1/agents/pk.agent', { token: await signed('RS256') })).status).toBe(
      200,
    );
    const pem = await exportSPKI((await generateKeyPair('RS256', { extractable: true })).publicKey);
    const confused = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('pk.agent')
      .sign(new TextEncoder().encode(pem));
    expectError(await pemRelay.call('GET', '/v1/agents/pk.agent', { token: confused }), 401, 'unauthorized');
    expectError(
      await pemRelay.call('GET', '/v1/agents/pk.agent', { token: await signed('ES256') }),
      401,
      'unauthorized',
    );
  });

  it('refuses a token whose kid the JWKS does not hold', async () => {
    const stranger = await generateKeyPair('ES256');
    const jwt = await new SignJWT({ exp: Math.floor(Date.now() / 1000) + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: 'unknown' })
      .setSubject('pk.agent')
      .sign(stranger.privateKey);
    expectError(await jwksRelay.call('GET', '/v1/agents/pk.agent', { token: jwt }), 401, 'unauthorized');
  });
});

describe('a relay without JWT settings', () => {
  it('refuses every JWT as an unknown credential', async () => {
    const plain = await startTestRelay();
    try {
      await plain.registerAgent('billing.api');
      const r = await plain.call('GET', '/v1/agents/billing.api', { token: await hs256('billing.api') });
      expectError(r, 401, 'unauthorized');
    } finally {
      await plain.close();
    }
  });
});
