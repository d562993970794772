import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILURE_REASONS } from '../src/auth/failure.js';
import { firstRow, rows } from '../src/db/database.js';
import { callHmac, hmacHeaders, hs256, JWT_SECRET, signingKey } from './support/credentials.js';
import { type Agent, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let agent: Agent;
const logged: string[] = [];
beforeAll(async () => {
  relay = await startTestRelay({ JWT_SECRET });
  const record = (level: string) => (fields: object, message?: string) => {
    logged.push(`${level} ${message ?? ''} ${JSON.stringify(fields)}`);
  };
  relay.deps.logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  agent = await relay.registerAgent('audit.agent');
});
afterAll(() => relay.close());

const auditedReasons = async () =>
  (
    await rows<{ reason: string }>(
      relay.db,
      sql`select detail->>'reason' as reason from audit_log where event = 'auth.failure'`,
    )
  ).map((r) => r.reason);

describe('audited authentication failures', () => {
  it('are buffered off the request path and written in a batch on flush', async () => {
    await relay.deps.audit.flush();
    const before = (await auditedReasons()).length;
    expect(
      (
        await relay.call('GET', '/v1/agents/audit.agent', {
          token: `admp_0000000000000000_${'x'.repeat(43)}`,
        })
      ).status,
    ).toBe(401);
    expect((await auditedReasons()).length).toBe(before);
    await relay.deps.audit.flush();
    expect((await auditedReasons()).length).toBe(before + 1);
  });

  it('carry one reason per kind of failure, counted in memory too', async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = await relay.registerAgent('audit.other');
    const key = signingKey('audit-1');
    await relay.call('POST', '/v1/agents/audit.agent/keys', {
      body: { kid: key.kid, public_key: key.publicKey },
    });
    const stats = '/v1/agents/audit.agent/inbox/stats';
    const replayed = hmacHeaders(agent.hmacSecret, agent.id, 'GET', stats, '', now - 3);
    await relay.call('GET', stats, { token: null, headers: replayed });
    const attempts: [string, () => Promise<unknown>][] = [
      ['missing_credentials', async () => relay.call('GET', stats, { token: null })],
      [
        'malformed_credentials',
        async () => relay.call('GET', stats, { token: null, headers: { authorization: 'Basic abc' } }),
      ],
      ['unknown_api_key', async () => relay.call('GET', stats, { token: 'nope' })],
      ['unknown_agent', async () => relay.call('GET', stats, { token: await hs256('audit.ghost') })],
      [
        'stale_timestamp',
        async () => callHmac(relay, agent, 'GET', stats, undefined, { timestamp: now - 400 }),
      ],
      [
        'bad_hmac',
        async () =>
          relay.call('GET', stats, {
            token: null,
            headers: hmacHeaders(other.hmacSecret, agent.id, 'GET', stats),
          }),
      ],
      ['replayed_request', async () => relay.call('GET', stats, { token: null, headers: replayed })],
      [
        'invalid_jwt',
        async () => relay.call('GET', stats, { token: `${(await hs256(agent.id)).slice(0, -4)}AAAA` }),
      ],
      [
        'expired_jwt',
        async () => relay.call('GET', stats, { token: await hs256(agent.id, { exp: now - 100 }) }),
      ],
      ['forbidden', async () => relay.call('GET', '/v1/agents/audit.other', { token: agent.apiKey })],
      [
        'missing_permission',
        async () => relay.call('GET', stats, { token: await hs256(agent.id, { permissions: ['send'] }) }),
      ],
      ['sender_mismatch', async () => relay.send(agent, 'audit.agent', { from: 'agent://audit.other' })],
      [
        'unsigned_envelope',
        async () =>
          relay
            .call('PATCH', '/v1/agents/audit.agent', { body: { require_signature: true } })
            .then(() => relay.send(agent, 'audit.agent')),
      ],
      [
        'unknown_signing_key',
        async () =>
          relay.send(agent, 'audit.agent', {
            signature: { alg: 'ed25519', kid: 'nope', sig: `${'A'.repeat(86)}==` },
          }),
      ],
      [
        'bad_envelope_signature',
        async () =>
          relay.send(agent, 'audit.agent', {
            signature: { alg: 'ed25519', kid: key.kid, sig: `${'A'.repeat(86)}==` },
          }),
      ],
    ];
    for (const [, attempt] of attempts) await attempt();
    await relay.deps.audit.flush();
    const reasons = await auditedReasons();
    for (const [reason] of attempts) expect(reasons).toContain(reason);
    expect(attempts.map(([r]) => r).sort()).toEqual([...FAILURE_REASONS].sort());
    const scrape = await relay.metrics();
    for (const reason of FAILURE_REASONS) {
      expect(scrape.sum('admp_auth_failures_total', { reason }), reason).toBeGreaterThan(0);
    }
  });

  it('never hold a credential, in the audit log or in a log line', async () => {
    const jwt = await hs256(agent.id, { permissions: ['send'] });
    await relay.call('GET', '/v1/agents/audit.other', { token: agent.apiKey });
    await relay.call('GET', '/v1/agents/audit.agent/inbox/stats', { token: jwt });
    await relay.deps.audit.flush();
    const all = await firstRow<{ text: string }>(
      relay.db,
      sql`select coalesce(string_agg(detail::text || coalesce(agent_id, ''), ' '), '') as text from audit_log`,
    );
    for (const secret of [agent.apiKey, agent.hmacSecret, jwt, JWT_SECRET, 'test-admin-key-0123456789']) {
      expect(all?.text).not.toContain(secret);
      expect(logged.join('\n')).not.toContain(secret);
    }
    expect(all?.text).toContain('audit.agent');
  });
});
