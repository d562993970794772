import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { createSecurity } from '../src/deps.js';
import { signingKey } from './support/credentials.js';
import { expectError } from './support/expect-error.js';
import { ADMIN_KEY, type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let signer: Agent;
let inbox: Agent;
const current = signingKey('2025-10');
beforeAll(async () => {
  relay = await startTestRelay();
  signer = await relay.registerAgent('sig.signer');
  inbox = await relay.registerAgent('sig.inbox');
  const r = await registerKey(signer, current);
  expect(r.status).toBe(201);
});
afterAll(() => relay.close());

const registerKey = (agent: Agent, key: { kid: string; publicKey: string }, token = agent.apiKey) =>
  relay.call('POST', `/v1/agents/${agent.id}/keys`, {
    token,
    body: { kid: key.kid, public_key: key.publicKey },
  });
const revokeKey = (agent: Agent, kid: string) =>
  relay.call('DELETE', `/v1/agents/${agent.id}/keys/${kid}`, { token: agent.apiKey });

function signed(key = current, overrides: Record<string, unknown> = {}): Record<string, any> {
  const e: Record<string, any> = envelope('sig.signer', 'sig.inbox', { correlation_id: 'c-1', ...overrides });
  return { ...e, signature: key.sign(e) };
}
const sendRaw = (body: unknown, from = signer) =>
  relay.call('POST', '/v1/agents/sig.inbox/messages', { token: from.apiKey, body });

describe('Ed25519 envelope signatures', () => {
  it('accepts a valid signature and delivers the envelope with it', async () => {
    const e = signed();
    const r = await sendRaw(e);
    expect(r.status).toBe(201);
    const pulled = await relay.pull(inbox);
    expect(pulled.body).toMatchObject({ id: e.id, signature: e.signature });
    await relay.ack(inbox, pulled.body.id, pulled.body.lease_id);
  });

  it('refuses an envelope changed after signing with 403 invalid_signature', async () => {
    const e = signed();
    for (const tampered of [
      { ...e, body: { email: 'mallory@example.com' } },
      { ...e, correlation_id: 'c-2' },
      { ...e, timestamp: new Date(Date.parse(e.timestamp) + 1000).toISOString() },
    ]) {
      expectError(await sendRaw(tampered), 403, 'invalid_signature');
    }
  });

  it('refuses a signature made with a key other than the one its kid names', async () => {
    const impostor = signingKey(current.kid);
    expectError(await sendRaw(signed(impostor)), 403, 'invalid_signature');
  });

  it('refuses a kid the sender never registered, even one another agent holds', async () => {
    const other = await relay.registerAgent('sig.other');
    const theirs = signingKey('theirs-1');
    expect((await registerKey(other, theirs)).status).toBe(201);
    expectError(await sendRaw(signed(signingKey('never-registered'))), 403, 'invalid_signature');
    expectError(await sendRaw(signed(theirs)), 403, 'invalid_signature');
  });

  it('refuses a stale signed envelope with 422 timestamp_window_exceeded, like any other', async () => {
    const r = await sendRaw(signed(current, { timestamp: new Date(Date.now() - 301_000).toISOString() }));
    expectError(r, 422, 'timestamp_window_exceeded');
  });

  it('stores a replayed signed envelope once: the same id comes back and nothing new is queued', async () => {
    const e = signed();
    const first = await sendRaw(e);
    const again = await sendRaw(e);
    expect(again.status).toBe(201);
    expect(again.body.message_id).toBe(first.body.message_id);
    expect((await relay.call('GET', '/v1/agents/sig.inbox/inbox/stats')).body.ready).toBe(1);
    const pulled = await relay.pull(inbox);
    await relay.ack(inbox, pulled.body.id, pulled.body.lease_id);
  });
});

describe('key rotation and revocation', () => {
  it('keeps several keys active, so a new one works before the old one is revoked', async () => {
    const next = signingKey('2025-11');
    expect((await registerKey(signer, next)).status).toBe(201);
    expect((await sendRaw(signed(current))).status).toBe(201);
    expect((await sendRaw(signed(next))).status).toBe(201);
    expect((await revokeKey(signer, current.kid)).status).toBe(204);
    expectError(await sendRaw(signed(current)), 403, 'invalid_signature');
    expect((await sendRaw(signed(next))).status).toBe(201);
    expectError(await revokeKey(signer, current.kid), 404, 'not_found');
  });

  it('never reuses a kid, not even a revoked one', async () => {
    expectError(await registerKey(signer, signingKey('2025-10')), 409, 'id_conflict');
  });

  it('refuses a key revoked through another relay process at once, cache or not', async () => {
    const k = signingKey('short-lived');
    expect((await registerKey(signer, k)).status).toBe(201);
    expect((await sendRaw(signed(k))).status).toBe(201);
    // Another process: its own caches, the same database.
    const twin = createApp({
      ...relay.deps,
      ...createSecurity(relay.deps.config, relay.db),
    });
    const revoked = await twin.request(`/v1/agents/sig.signer/keys/${k.kid}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${signer.apiKey}` },
    });
    expect(revoked.status).toBe(204);
    expectError(await sendRaw(signed(k)), 403, 'invalid_signature');
  });

  it('publishes active keys in /.well-known/agent-keys.json without authentication', async () => {
    const r = await relay.call('GET', '/.well-known/agent-keys.json', { token: null });
    expect(r.status).toBe(200);
    const mine = r.body.keys.filter((k: any) => k.agent_id === 'sig.signer');
    expect(mine.map((k: any) => k.kid).sort()).toEqual(['2025-11']);
    expect(mine[0]).toEqual({
      kid: '2025-11',
      agent_id: 'sig.signer',
      kty: 'OKP',
      crv: 'Ed25519',
      x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  });

  it.each([
    ['a key that is not base64 of 32 bytes', { kid: 'k1', public_key: 'abc' }],
    ['a base64url key', { kid: 'k1', public_key: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=' }],
    [
      'a point not on the curve',
      { kid: 'k1', public_key: Buffer.from([2, ...new Array(31).fill(0)]).toString('base64') },
    ],
    ['a kid with a space', { kid: 'my key', public_key: current.publicKey }],
  ])('refuses %s with 422', async (_, body) => {
    const r = await relay.call('POST', '/v1/agents/sig.signer/keys', { token: signer.apiKey, body });
    expectError(r, 422, 'validation_failed');
  });

  it('lets only the agent itself or the admin register and revoke its keys', async () => {
    expectError(await registerKey(signer, signingKey('x-1'), inbox.apiKey), 403, 'forbidden');
    expectError(
      await relay.call('DELETE', '/v1/agents/sig.signer/keys/2025-11', { token: inbox.apiKey }),
      403,
      'forbidden',
    );
    expect((await registerKey(signer, signingKey('by-admin'), ADMIN_KEY)).status).toBe(201);
  });
});

describe('requiring signatures', () => {
  it('refuses unsigned envelopes from an agent registered with require_signature', async () => {
    const r = await relay.call('POST', '/v1/agents', {
      body: { agent_id: 'sig.strict', require_signature: true },
    });
    expect(r.status).toBe(201);
    expect(r.body.require_signature).toBe(true);
    const strict = { id: 'sig.strict', apiKey: r.body.api_key, hmacSecret: r.body.hmac_secret };
    const key = signingKey('strict-1');
    expect((await registerKey(strict, key)).status).toBe(201);
    const unsigned = envelope('sig.strict', 'sig.inbox');
    expectError(await sendRaw(unsigned, strict), 403, 'invalid_signature');
    expect((await sendRaw({ ...unsigned, signature: key.sign(unsigned) }, strict)).status).toBe(201);
  });

  it('lets the admin turn the requirement on and off for an agent', async () => {
    const a = await relay.registerAgent('sig.toggle');
    const on = await relay.call('PATCH', '/v1/agents/sig.toggle', { body: { require_signature: true } });
    expect(on.body).toMatchObject({ agent_id: 'sig.toggle', require_signature: true });
    expectError(await sendRaw(envelope('sig.toggle', 'sig.inbox'), a), 403, 'invalid_signature');
    await relay.call('PATCH', '/v1/agents/sig.toggle', { body: { require_signature: false } });
    expect((await sendRaw(envelope('sig.toggle', 'sig.inbox'), a)).status).toBe(201);
    expectError(
      await relay.call('PATCH', '/v1/agents/sig.toggle', {
        token: a.apiKey,
        body: { require_signature: false },
      }),
      403,
      'forbidden',
    );
  });

  it('refuses every unsigned envelope when REQUIRE_SIGNATURES is set', async () => {
    const strictRelay = await startTestRelay({ REQUIRE_SIGNATURES: 'true' });
    try {
      const a = await strictRelay.registerAgent('all.a');
      await strictRelay.registerAgent('all.b');
      const r = await strictRelay.send(a, 'all.b');
      expectError(r, 403, 'invalid_signature');
      expect(r.body.error.message).toContain('must be signed');
    } finally {
      await strictRelay.close();
    }
  });
});
