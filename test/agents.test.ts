import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../src/db/database.js';
import { expectError } from './support/expect-error.js';
import { ADMIN_KEY, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

describe('agent registration', () => {
  it('registers an agent and shows its API key and HMAC secret once', async () => {
    const r = await relay.call('POST', '/v1/agents', { body: { agent_id: 'billing.api', tier: 'free' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ agent_id: 'billing.api', tier: 'free' });
    expect(r.body.api_key).toMatch(/^admp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(r.body.hmac_secret).toMatch(/^[0-9a-f]{64}$/);
    const got = await relay.call('GET', '/v1/agents/billing.api', { token: r.body.api_key });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ agent_id: 'billing.api', tier: 'free', last_seen: null });
    expect(JSON.stringify(got.body)).not.toContain(r.body.hmac_secret);
  });

  it('stores API keys bcrypt-hashed and HMAC secrets encrypted, never in plain text', async () => {
    const a = await relay.registerAgent('secretive');
    const [key] = await rows<{ hash: string }>(
      relay.db,
      sql`select hash from api_key where agent_id = 'secretive'`,
    );
    expect(key?.hash).toMatch(/^\$2[aby]\$10\$/);
    const [agent] = await rows<{ hmac_secret: string }>(
      relay.db,
      sql`select hmac_secret from agent where id = 'secretive'`,
    );
    expect(agent?.hmac_secret).not.toContain(a.hmacSecret);
    expect(await relay.deps.secrets.open(agent?.hmac_secret as string)).toBe(a.hmacSecret);
  });

  it('refuses a second agent with the same id with 409', async () => {
    await relay.registerAgent('twin');
    expectError(await relay.call('POST', '/v1/agents', { body: { agent_id: 'twin' } }), 409, 'id_conflict');
  });

  it.each([
    ['an id starting with a dot', { agent_id: '.hidden' }],
    ['an id with a slash', { agent_id: 'a/b' }],
    ['an id of 129 characters', { agent_id: `a${'b'.repeat(128)}` }],
    ['an agent URI instead of an id', { agent_id: 'agent://x' }],
    ['an unknown field', { agent_id: 'x', admin: true }],
    ['a malformed tier', { agent_id: 'x', tier: 'Gold Plan' }],
  ])('refuses %s with 422', async (_, body) => {
    expectError(await relay.call('POST', '/v1/agents', { body }), 422, 'validation_failed');
  });

  it('accepts a 128-character id', async () => {
    const id = `a${'b'.repeat(127)}`;
    expect((await relay.call('POST', '/v1/agents', { body: { agent_id: id } })).status).toBe(201);
  });

  it('is for the admin only; an agent lists only the others it may send to', async () => {
    const a = await relay.registerAgent('plain');
    expectError(
      await relay.call('POST', '/v1/agents', { token: a.apiKey, body: { agent_id: 'other' } }),
      403,
      'forbidden',
    );
    const own = await relay.call('GET', '/v1/agents?limit=200', { token: a.apiKey });
    expect(own.status).toBe(200);
    expect(own.body.agents.map((x: any) => x.agent_id)).not.toContain('plain');
    const list = await relay.call('GET', '/v1/agents?limit=200');
    expect(list.body.agents.map((x: any) => x.agent_id)).toContain('plain');
  });
});

describe('agent access', () => {
  it('lets an agent read itself but not another agent', async () => {
    const a = await relay.registerAgent('reader-a');
    await relay.registerAgent('reader-b');
    expect((await relay.call('GET', '/v1/agents/reader-a', { token: a.apiKey })).status).toBe(200);
    expectError(await relay.call('GET', '/v1/agents/reader-b', { token: a.apiKey }), 403, 'forbidden');
    expectError(await relay.call('GET', '/v1/agents/nobody'), 404, 'not_found');
  });

  it('deletes an agent with its keys and inbox; its key stops working at once', async () => {
    const a = await relay.registerAgent('leaving');
    const b = await relay.registerAgent('staying');
    await relay.send(b, 'leaving');
    expect((await relay.call('GET', '/v1/agents/leaving', { token: a.apiKey })).status).toBe(200);
    const del = await relay.call('DELETE', '/v1/agents/leaving', { token: a.apiKey });
    expect(del.status).toBe(204);
    expectError(await relay.call('GET', '/v1/agents/leaving', { token: a.apiKey }), 401, 'unauthorized');
    expectError(await relay.call('DELETE', '/v1/agents/leaving'), 404, 'not_found');
    const [left] = await rows<{ n: string }>(
      relay.db,
      sql`select count(*) as n from message where to_agent_id = 'leaving'`,
    );
    expect(Number(left?.n)).toBe(0);
  });

  it('does not let an agent delete another', async () => {
    const a = await relay.registerAgent('del-a');
    await relay.registerAgent('del-b');
    expectError(await relay.call('DELETE', '/v1/agents/del-b', { token: a.apiKey }), 403, 'forbidden');
  });
});

describe('API keys', () => {
  it('issues more keys that all work, and revokes one without touching the others', async () => {
    const a = await relay.registerAgent('rotator');
    const k2 = await relay.call('POST', '/v1/agents/rotator/api-keys', { token: a.apiKey, body: {} });
    expect(k2.status).toBe(201);
    expect(k2.body).toMatchObject({ tier: 'standard' });
    expect(k2.body.api_key.startsWith(`admp_${k2.body.key_id}_`)).toBe(true);
    expect((await relay.call('GET', '/v1/agents/rotator', { token: k2.body.api_key })).status).toBe(200);
    const revoke = await relay.call('DELETE', `/v1/agents/rotator/api-keys/${k2.body.key_id}`, {
      token: a.apiKey,
    });
    expect(revoke.status).toBe(204);
    expectError(
      await relay.call('GET', '/v1/agents/rotator', { token: k2.body.api_key }),
      401,
      'unauthorized',
    );
    expect((await relay.call('GET', '/v1/agents/rotator', { token: a.apiKey })).status).toBe(200);
    expectError(
      await relay.call('DELETE', `/v1/agents/rotator/api-keys/${k2.body.key_id}`, { token: a.apiKey }),
      404,
      'not_found',
    );
  });

  it('lets only the admin choose another tier', async () => {
    const a = await relay.registerAgent('tiered');
    expectError(
      await relay.call('POST', '/v1/agents/tiered/api-keys', {
        token: a.apiKey,
        body: { tier: 'unlimited' },
      }),
      403,
      'forbidden',
    );
    const admin = await relay.call('POST', '/v1/agents/tiered/api-keys', { body: { tier: 'unlimited' } });
    expect(admin.body.tier).toBe('unlimited');
  });

  it('does not let one agent issue or revoke another agent’s keys', async () => {
    const a = await relay.registerAgent('keys-a');
    const b = await relay.registerAgent('keys-b');
    const bKey = await relay.call('POST', '/v1/agents/keys-b/api-keys', { token: b.apiKey, body: {} });
    expectError(
      await relay.call('POST', '/v1/agents/keys-b/api-keys', { token: a.apiKey, body: {} }),
      403,
      'forbidden',
    );
    expectError(
      await relay.call('DELETE', `/v1/agents/keys-b/api-keys/${bKey.body.key_id}`, { token: a.apiKey }),
      403,
      'forbidden',
    );
    // Naming one's own inbox does not reach another agent's key either.
    expectError(
      await relay.call('DELETE', `/v1/agents/keys-a/api-keys/${bKey.body.key_id}`, { token: a.apiKey }),
      404,
      'not_found',
    );
  });

  it('answers 404 when issuing a key for an agent that does not exist', async () => {
    expectError(await relay.call('POST', '/v1/agents/ghost/api-keys', { body: {} }), 404, 'not_found');
  });

  it('re-checks a cached key after the cache TTL, so a key revoked elsewhere stops working', async () => {
    const a = await relay.registerAgent('cached');
    expect((await relay.call('GET', '/v1/agents/cached', { token: a.apiKey })).status).toBe(200);
    // Another process revokes the key: only the database knows.
    await relay.db.execute(sql`update api_key set revoked_at = now() where agent_id = 'cached'`);
    expect((await relay.call('GET', '/v1/agents/cached', { token: a.apiKey })).status).toBe(200);
    const realNow = relay.deps.clock.now;
    relay.deps.clock.now = () => realNow() + 61_000;
    try {
      expectError(await relay.call('GET', '/v1/agents/cached', { token: a.apiKey }), 401, 'unauthorized');
    } finally {
      relay.deps.clock.now = realNow;
    }
  });

  it('accepts the admin key for every agent and refuses a near miss', async () => {
    await relay.registerAgent('admin-target');
    expect((await relay.call('GET', '/v1/agents/admin-target', { token: ADMIN_KEY })).status).toBe(200);
    expectError(
      await relay.call('GET', '/v1/agents/admin-target', { token: `${ADMIN_KEY}x` }),
      401,
      'unauthorized',
    );
  });
});
