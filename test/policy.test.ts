import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../src/db/database.js';
import { silentLogger } from '../src/observe/logger.js';
import { parsePolicy } from '../src/policy/load.js';
import { PolicyRefresher, policyIdentity, publishPolicy, readStoredPolicy } from '../src/policy/store.js';
import { expectError } from './support/expect-error.js';
import { type Agent, startTestRelay, type TestRelay } from './support/relay.js';

const POLICY = `
tiers:
  gold: { requests_per_minute: 5000 }
policies:
  - name: no-billing-from-guests
    priority: 10
    from_agent_pattern: '^guest\\.'
    to_agent_pattern: '^billing\\.'
    action: deny
  - name: small-events
    priority: 20
    type_pattern: '^event$'
    action: allow
    max_size_kb: 1
  - name: chatty-reporter
    priority: 30
    from_agent_pattern: '^reporter\\.'
    action: allow
    rate_limit_per_hour: 3
  - name: crowd
    priority: 40
    from_agent_pattern: '^crowd\\.'
    action: allow
    rate_limit_per_hour: 10
`;

let relay: TestRelay;
let guest: Agent;
let billing: Agent;
let reporter: Agent;
let other: Agent;

beforeAll(async () => {
  relay = await startTestRelay({}, { policy: POLICY });
  guest = await relay.registerAgent('guest.one');
  billing = await relay.registerAgent('billing.api');
  reporter = await relay.registerAgent('reporter.one');
  other = await relay.registerAgent('reporter.two');
});
afterAll(() => relay.close());

const ready = async (agent: Agent) => (await relay.stats(agent)).ready as number;

describe('the policy engine on SEND', () => {
  it('refuses a denied message with 403 policy_denied, stores nothing, and counts and audits the denial', async () => {
    const r = await relay.send(guest, billing.id);
    expectError(r, 403, 'policy_denied');
    expect(r.body.error.message).toContain('no-billing-from-guests');
    expect(await ready(billing)).toBe(0);
    expect(
      (await relay.metrics()).sum('admp_policy_denials_total', { policy_name: 'no-billing-from-guests' }),
    ).toBe(1);
    await relay.deps.audit.flush();
    const audited = await rows<{ detail: Record<string, string> }>(
      relay.db,
      sql`select detail from audit_log where event = 'policy.denied'`,
    );
    expect(audited.map((a) => a.detail)).toContainEqual({
      from: 'guest.one',
      to: 'billing.api',
      policy: 'no-billing-from-guests',
      reason: 'denied',
    });
  });

  it('lets the rule’s pattern decide: the same sender may still reach other agents', async () => {
    expect((await relay.send(guest, reporter.id)).status).toBe(201);
  });

  it('refuses a body over max_size_kb with 413 payload_too_large and takes one at the limit', async () => {
    const body = (bytes: number) => ({ pad: 'x'.repeat(bytes - '{"pad":""}'.length) });
    expect((await relay.send(reporter, billing.id, { type: 'event', body: body(1024) })).status).toBe(201);
    const over = await relay.send(other, billing.id, { type: 'event', body: body(1025) });
    expectError(over, 413, 'payload_too_large');
    expect(over.body.error.message).toContain('small-events');
    // The limit belongs to the rule: a task.request of the same size matches no size rule.
    expect((await relay.send(guest, reporter.id, { body: body(1025) })).status).toBe(201);
  });

  it('refuses the message past rate_limit_per_hour with 429 rate_limited and Retry-After, per sender', async () => {
    for (let i = 0; i < 3; i++) expect((await relay.send(reporter, billing.id)).status).toBe(201);
    const refused = await relay.send(reporter, billing.id);
    expectError(refused, 429, 'rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // Another sender under the same rule has a window of its own.
    expect((await relay.send(other, billing.id)).status).toBe(201);
    const scrape = await relay.metrics();
    expect(
      scrape.sum('admp_policy_denials_total', { policy_name: 'chatty-reporter', reason: 'rate_limited' }),
    ).toBe(1);
  });

  it('admits exactly the limit when many sends race for the last slots', async () => {
    const crowd = await relay.registerAgent('crowd.one');
    await relay.stats(crowd); // verifies the key once, so the race is between sends, not bcrypt checks
    const results = await Promise.all(Array.from({ length: 25 }, () => relay.send(crowd, billing.id)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });
});

describe('the published policy', () => {
  it('is written to the policy tables and read back as the same rules and tiers', async () => {
    const stored = await readStoredPolicy(relay.db);
    expect(stored.written).toEqual([]);
    const policy = parsePolicy(POLICY);
    await publishPolicy(relay.db, policy);
    const back = await readStoredPolicy(relay.db);
    expect(policyIdentity(back)).toBe(policyIdentity(policy));
    expect(back.tiers.gold).toBe(5000);
    expect(back.rules.map((r) => r.name)).toEqual([
      'no-billing-from-guests',
      'small-events',
      'chatty-reporter',
      'crowd',
      'default',
    ]);
  });

  it('reads back rules of equal priority in the order the publishing process uses', async () => {
    const policy = parsePolicy(
      'policies:\n  - { name: zeta, priority: 5, action: deny }\n  - { name: Alpha, priority: 5, action: allow }\n',
    );
    await publishPolicy(relay.db, policy);
    const back = await readStoredPolicy(relay.db);
    expect(policyIdentity(back)).toBe(policyIdentity(policy));
    expect(back.rules.map((r) => r.name)).toEqual(['Alpha', 'zeta', 'default']);
    await publishPolicy(relay.db, parsePolicy(POLICY));
  });

  it('reaches a process that has no file of its own on its next refresh', async () => {
    const target = { policy: parsePolicy(''), db: relay.db, logger: silentLogger };
    const refresher = new PolicyRefresher(target, 60_000);
    await refresher.ensure(0).ready;
    expect(target.policy.rules[0]?.name).toBe('no-billing-from-guests');
    await publishPolicy(relay.db, parsePolicy('policies:\n  - { name: only, action: deny }\n'));
    // Inside the interval nothing is read; past it, the new rules arrive.
    expect(refresher.ensure(1000).background).toBeUndefined();
    await refresher.ensure(61_000).background;
    expect(target.policy.rules.map((r) => r.name)).toEqual(['only', 'default']);
    await publishPolicy(relay.db, parsePolicy(''));
  });

  it('refuses a hand-edited row it cannot read rather than drop the rule silently', async () => {
    await relay.db.execute(
      sql`insert into policy (name, action, to_agent_pattern) values ('broken', 'deny', '(')`,
    );
    await expect(readStoredPolicy(relay.db)).rejects.toThrow(/policy row broken/);
    await relay.db.execute(sql`delete from policy where name = 'broken'`);
  });
});
