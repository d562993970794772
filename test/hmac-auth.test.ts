import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { firstRow } from '../src/db/database.js';
import { sweepOnce } from '../src/inbox/sweeper.js';
import { callHmac, hmacHeaders } from './support/credentials.js';
import { expectError } from './support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let alice: Agent;
let bob: Agent;
beforeAll(async () => {
  relay = await startTestRelay();
  alice = await relay.registerAgent('hmac.alice');
  bob = await relay.registerAgent('hmac.bob');
});
afterAll(() => relay.close());

const sendPath = (to: string) => `/v1/agents/${to}/messages`;

describe('HMAC request authentication', () => {
  it('accepts a SEND, a PULL with a query string and a GET signed with the agent’s secret', async () => {
    const sent = await callHmac(
      relay,
      alice,
      'POST',
      sendPath('hmac.bob'),
      envelope('hmac.alice', 'hmac.bob'),
    );
    expect(sent.status).toBe(201);
    const pulled = await callHmac(relay, bob, 'POST', '/v1/agents/hmac.bob/inbox/pull?visibility_timeout=30');
    expect(pulled.status).toBe(200);
    expect(pulled.body.id).toBe(sent.body.message_id);
    expect((await callHmac(relay, bob, 'GET', '/v1/agents/hmac.bob/inbox/stats')).body).toMatchObject({
      leased: 1,
    });
  });

  it('refuses a body changed after signing', async () => {
    const e = envelope('hmac.alice', 'hmac.bob');
    const headers = hmacHeaders(alice.hmacSecret, alice.id, 'POST', sendPath('hmac.bob'), JSON.stringify(e));
    const tampered = JSON.stringify({ ...e, subject: 'transfer_funds' });
    const r = await relay.call('POST', sendPath('hmac.bob'), {
      token: null,
      raw: tampered,
      headers: { ...headers, 'content-type': 'application/json' },
    });
    expectError(r, 401, 'unauthorized');
  });

  it('refuses a signature moved to another path, query or method', async () => {
    const headers = hmacHeaders(bob.hmacSecret, bob.id, 'GET', '/v1/agents/hmac.bob/inbox/stats');
    expectError(
      await relay.call('POST', '/v1/agents/hmac.bob/inbox/reclaim', { token: null, headers }),
      401,
      'unauthorized',
    );
    const pull = hmacHeaders(
      bob.hmacSecret,
      bob.id,
      'POST',
      '/v1/agents/hmac.bob/inbox/pull?visibility_timeout=1',
    );
    const r = await relay.call('POST', '/v1/agents/hmac.bob/inbox/pull?visibility_timeout=3600', {
      token: null,
      headers: pull,
    });
    expectError(r, 401, 'unauthorized');
  });

  it('refuses a timestamp more than 300 seconds from the relay’s clock, either way', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 301, now + 301]) {
      const r = await callHmac(relay, bob, 'GET', '/v1/agents/hmac.bob/inbox/stats', undefined, {
        timestamp,
      });
      expectError(r, 401, 'unauthorized');
      expect(r.body.error.message).toContain('300 seconds');
    }
    expect(
      (
        await callHmac(relay, bob, 'GET', '/v1/agents/hmac.bob/inbox/stats', undefined, {
          timestamp: now - 290,
        })
      ).status,
    ).toBe(200);
  });

  it('refuses a request signed with another agent’s secret', async () => {
    const headers = hmacHeaders(alice.hmacSecret, bob.id, 'GET', '/v1/agents/hmac.bob/inbox/stats');
    expectError(
      await relay.call('GET', '/v1/agents/hmac.bob/inbox/stats', { token: null, headers }),
      401,
      'unauthorized',
    );
  });

  it('refuses an agent id the relay does not know', async () => {
    const headers = hmacHeaders(alice.hmacSecret, 'hmac.nobody', 'GET', '/v1/agents/hmac.nobody/inbox/stats');
    expectError(
      await relay.call('GET', '/v1/agents/hmac.nobody/inbox/stats', { token: null, headers }),
      401,
      'unauthorized',
    );
  });

  it('refuses a request that carries both a bearer token and HMAC headers', async () => {
    const headers = hmacHeaders(bob.hmacSecret, bob.id, 'GET', '/v1/agents/hmac.bob/inbox/stats');
    expectError(
      await relay.call('GET', '/v1/agents/hmac.bob/inbox/stats', { token: bob.apiKey, headers }),
      401,
      'unauthorized',
    );
  });
});

describe('HMAC replay protection', () => {
  it('accepts a signature once and refuses it the second time, even for a harmless GET', async () => {
    const timestamp = Math.floor(Date.now() / 1000) - 7;
    const headers = hmacHeaders(
      bob.hmacSecret,
      bob.id,
      'GET',
      '/v1/agents/hmac.bob/inbox/stats',
      '',
      timestamp,
    );
    expect(
      (await relay.call('GET', '/v1/agents/hmac.bob/inbox/stats', { token: null, headers })).status,
    ).toBe(200);
    const again = await relay.call('GET', '/v1/agents/hmac.bob/inbox/stats', { token: null, headers });
    expectError(again, 401, 'unauthorized');
    expect(again.body.error.message).toContain('already used');
  });

  it('tells identical requests apart only by their timestamps, so a client gives a repeat a later one', async () => {
    const path = '/v1/agents/hmac.bob/inbox/stats';
    const second = Math.floor(Date.now() / 1000) - 20;
    expect((await callHmac(relay, bob, 'GET', path, undefined, { timestamp: second })).status).toBe(200);
    expect((await callHmac(relay, bob, 'GET', path, undefined, { timestamp: second })).status).toBe(401);
    expect((await callHmac(relay, bob, 'GET', path, undefined, { timestamp: second + 1 })).status).toBe(200);
  });

  it('accepts repeated PULLs within one second when each carries its own nonce query parameter', async () => {
    const second = Math.floor(Date.now() / 1000);
    for (const nonce of ['a1', 'b2', 'c3']) {
      const path = `/v1/agents/hmac.bob/inbox/pull?visibility_timeout=30&nonce=${nonce}`;
      expect(
        (await callHmac(relay, bob, 'POST', path, undefined, { timestamp: second })).status,
      ).toBeLessThan(300);
    }
  });

  it('refuses a replay sent to another relay process on the same database', async () => {
    const twin = await twinOf(relay);
    const path = '/v1/agents/hmac.bob/inbox/pull?visibility_timeout=5';
    const headers = hmacHeaders(bob.hmacSecret, bob.id, 'POST', path);
    expect((await relay.call('POST', path, { token: null, headers })).status).toBeLessThan(300);
    const replayed = await twin.request(path, { method: 'POST', headers });
    expect(replayed.status).toBe(401);
  });

  it('remembers a signature for its window and a margin, and the sweep forgets it after', async () => {
    const row = await firstRow<{ n: number; latest: string }>(
      relay.db,
      sql`select count(*)::int as n, max(expires_at)::text as latest from request_signature`,
    );
    expect(row?.n).toBeGreaterThan(0);
    expect(new Date(row?.latest as string).getTime() - Date.now()).toBeLessThanOrEqual(600_000);
    await relay.db.execute(sql`update request_signature set expires_at = now() - interval '1 second'`);
    await sweepOnce(relay.deps, 'ttl');
    expect(
      (await firstRow<{ n: number }>(relay.db, sql`select count(*)::int as n from request_signature`))?.n,
    ).toBe(0);
  });
});

describe('HMAC secrets', () => {
  it('are opened once per agent, not on every request', async () => {
    const carol = await relay.registerAgent('hmac.carol');
    const open = vi.spyOn(relay.deps.secrets, 'open');
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) {
      const r = await callHmac(relay, carol, 'GET', '/v1/agents/hmac.carol/inbox/stats', undefined, {
        timestamp: now - i,
      });
      expect(r.status).toBe(200);
    }
    expect(open).toHaveBeenCalledTimes(1);
    open.mockRestore();
  });
});

describe('rotating an HMAC secret', () => {
  it('replaces the secret at once: the new one works and the old one is refused', async () => {
    const dave = await relay.registerAgent('hmac.dave');
    const r = await relay.call('POST', '/v1/agents/hmac.dave/hmac-secret', { token: dave.apiKey });
    expect(r.status).toBe(201);
    expect(r.body.hmac_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(r.body.hmac_secret).not.toBe(dave.hmacSecret);
    const stats = '/v1/agents/hmac.dave/inbox/stats';
    expect((await callHmac(relay, dave, 'GET', stats)).status).toBe(401);
    expect((await callHmac(relay, { ...dave, hmacSecret: r.body.hmac_secret }, 'GET', stats)).status).toBe(
      200,
    );
    expect((await relay.call('POST', '/v1/agents/hmac.dave/hmac-secret', { token: bob.apiKey })).status).toBe(
      403,
    );
  });

  it('is how an agent recovers after SECRET_KEY changes: old secrets are refused, not a 500', async () => {
    const erin = await relay.registerAgent('hmac.erin');
    const rekeyed = await twinOf(relay, { SECRET_KEY: 'a-new-secret-key-0123456789abcdef-xyz' });
    const stats = '/v1/agents/hmac.erin/inbox/stats';
    const signed = hmacHeaders(erin.hmacSecret, erin.id, 'GET', stats);
    const refused = await rekeyed.request(stats, { headers: signed });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as any).error.message).toContain('SECRET_KEY');
    const bearer = { authorization: `Bearer ${erin.apiKey}` };
    const rotated = await rekeyed.request('/v1/agents/hmac.erin/hmac-secret', {
      method: 'POST',
      headers: bearer,
    });
    const { hmac_secret } = (await rotated.json()) as any;
    expect(
      (await rekeyed.request(stats, { headers: hmacHeaders(hmac_secret, erin.id, 'GET', stats) })).status,
    ).toBe(200);
  });
});

/** A second app on the same database with caches of its own: what another relay process sees. */
async function twinOf(r: TestRelay, env: Record<string, string> = {}) {
  const { createApp } = await import('../src/app.js');
  const { parseConfig } = await import('../src/config.js');
  const { createSecurity } = await import('../src/deps.js');
  const config = parseConfig({ NODE_ENV: 'test', API_KEY: r.deps.config.apiKey, ...env });
  return createApp({ ...r.deps, config, ...createSecurity(config, r.db) });
}
