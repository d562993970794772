import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  createDatabase,
  type RelayProcess,
  request,
  sleep,
  spawnRelay,
  stopRelay,
  withClient,
} from './relay-process.js';

const LIMIT = 10;
let database: Awaited<ReturnType<typeof createDatabase>>;
let dir: string;
let relays: RelayProcess[] = [];

beforeAll(async () => {
  database = await createDatabase();
  dir = mkdtempSync(join(tmpdir(), 'admp-policy-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, `tiers:\n  metered:\n    requests_per_minute: ${LIMIT}\npolicies: []\n`);
  const env = { DATABASE_URL: database.url, POLICY_FILE: policyFile };
  relays = await Promise.all([spawnRelay({ env }), spawnRelay({ env })]);
});
afterAll(async () => {
  await Promise.all(relays.map(stopRelay));
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The window is the database's minute; begin early in one so the test cannot straddle two. */
async function earlyInWindow() {
  const second = await withClient(database.url, async (c) => {
    const { rows } = await c.query<{ s: number }>('select extract(second from now())::float as s');
    return Number(rows[0]?.s);
  });
  if (second > 40) await sleep((61 - second) * 1000);
}

it('holds an API key to its tier’s limit across two relay processes sharing one database', async () => {
  const [a, b] = relays as [RelayProcess, RelayProcess];
  const registered = await request(a.url, 'POST', '/v1/agents', ADMIN_KEY, {
    agent_id: 'tier.metered',
    tier: 'metered',
  });
  expect(registered.status).toBe(201);
  const key = registered.body.api_key as string;
  await earlyInWindow();

  const statuses: number[] = [];
  const retryAfter: (string | null)[] = [];
  for (let i = 0; i < LIMIT + 4; i++) {
    const relay = i % 2 === 0 ? a : b;
    const r = await fetch(`${relay.url}/v1/agents/tier.metered/inbox/stats`, {
      headers: { authorization: `Bearer ${key}` },
    });
    await r.arrayBuffer();
    statuses.push(r.status);
    retryAfter.push(r.headers.get('retry-after'));
  }
  // Each relay alone saw only half the requests, so only a shared count refuses on both.
  expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(200));
  expect(statuses.slice(LIMIT)).toEqual([429, 429, 429, 429]);
  for (const seconds of retryAfter.slice(LIMIT)) {
    expect(Number(seconds)).toBeGreaterThanOrEqual(1);
    expect(Number(seconds)).toBeLessThanOrEqual(60);
  }

  // The admin is never limited, on either relay.
  for (const relay of [a, b]) {
    expect((await request(relay.url, 'GET', '/v1/agents/tier.metered/inbox/stats', ADMIN_KEY)).status).toBe(
      200,
    );
  }
  // Nothing either relay logged holds the key.
  for (const relay of relays) expect(relay.stdout() + relay.stderr()).not.toContain(key);
});
