import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  createDatabase,
  envelope,
  type RelayProcess,
  registerAgent,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

let database: Awaited<ReturnType<typeof createDatabase>>;
let relay: RelayProcess;

beforeAll(async () => {
  database = await createDatabase();
  relay = await spawnRelay({ env: { DATABASE_URL: database.url } });
});
afterAll(async () => {
  await stopRelay(relay);
  await database.drop();
});

describe('the HTTP server in front of the app', () => {
  it('keeps idle connections 65 s, longer than clients and proxies keep theirs, and says so', async () => {
    const health = await fetch(`${relay.url}/health`);
    expect(health.headers.get('keep-alive')).toBe('timeout=65');
  });

  it('answers a 100 KB request header with a 4xx, never a 5xx, and keeps serving', async () => {
    const sender = await registerAgent(relay.url, 'header-sender');
    const r = await fetch(`${relay.url}/v1/agents/header-sender/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sender.apiKey}`,
        'content-type': 'application/json',
        'x-padding': 'p'.repeat(100_000),
      },
      body: JSON.stringify(envelope('header-sender', 'header-sender')),
    });
    expect(r.status).toBe(431);
    const health = await fetch(`${relay.url}/health`);
    expect(health.status).toBe(200);
  });

  it('answers a 3 MB body with 413 in the error shape without storing anything', async () => {
    const r = await fetch(`${relay.url}/v1/agents/nobody/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: `{"pad":"${'x'.repeat(3_000_000)}"}`,
    });
    expect(r.status).toBe(413);
    expect((await r.json()).error.code).toBe('payload_too_large');
  });
});
