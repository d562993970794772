import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstRow } from '../src/db/database.js';
import { callHmac } from './support/credentials.js';
import { type Agent, sleep, startTestRelay, type TestRelay } from './support/relay.js';

const POLICY = `
tiers:
  tiny: { requests_per_minute: 5 }
  free: { requests_per_minute: 8 }
policies: []
`;

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({}, { policy: POLICY });
});
afterAll(() => relay.close());

/** Windows are whole minutes of the database's clock; start a test early in one so it cannot straddle two. */
async function earlyInWindow() {
  const row = await firstRow<{ s: number }>(relay.db, sql`select extract(second from now())::float as s`);
  const second = Number(row?.s);
  if (second > 45) await sleep((61 - second) * 1000);
}

const stats = (agent: Agent, token = agent.apiKey) =>
  relay.call('GET', `/v1/agents/${agent.id}/inbox/stats`, { token });

describe('API-key tiers', () => {
  it('refuses the request past the tier’s limit with 429 rate_limited and Retry-After', async () => {
    const a = await relay.registerAgent('rl.tiny', 'tiny');
    await earlyInWindow();
    for (let i = 0; i < 5; i++) expect((await stats(a)).status).toBe(200);
    const refused = await stats(a);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('counts every credential of one agent at one tier together: API keys, self-issued keys and HMAC', async () => {
    const a = await relay.registerAgent('rl.shared', 'tiny');
    await earlyInWindow();
    const second = await relay.call('POST', '/v1/agents/rl.shared/api-keys', { token: a.apiKey, body: {} });
    expect(second.body.tier).toBe('tiny');
    expect((await stats(a, second.body.api_key)).status).toBe(200);
    expect((await callHmac(relay, a, 'GET', '/v1/agents/rl.shared/inbox/stats')).status).toBe(200);
    expect((await stats(a)).status).toBe(200);
    // Issuing the key was the first of the five.
    expect((await stats(a, second.body.api_key)).status).toBe(200);
    expect((await stats(a)).status).toBe(429);
    expect((await stats(a, second.body.api_key)).status).toBe(429);
  });

  it('keeps agents apart, and never limits the admin or an unlimited tier', async () => {
    const a = await relay.registerAgent('rl.busy', 'tiny');
    const b = await relay.registerAgent('rl.quiet', 'tiny');
    const u = await relay.registerAgent('rl.unlimited', 'unlimited');
    await earlyInWindow();
    for (let i = 0; i < 6; i++) await stats(a);
    expect((await stats(b)).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      expect((await stats(u)).status).toBe(200);
      expect((await relay.call('GET', '/v1/agents/rl.busy/inbox/stats')).status).toBe(200);
    }
    const counted = await firstRow<{ n: number }>(
      relay.db,
      sql`select count(*)::int as n from rate_window where bucket like '%rl.unlimited%'`,
    );
    expect(counted?.n).toBe(0);
  });

  it('takes tiers from the policy file and refuses names it does not define', async () => {
    expect((await relay.registerAgent('rl.free', 'free')).id).toBe('rl.free');
    const r = await relay.call('POST', '/v1/agents', { body: { agent_id: 'rl.gold', tier: 'gold' } });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toContain('tiny');
  });
});
