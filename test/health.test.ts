import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

describe('GET /health', () => {
  it('answers 200 healthy with the version and uptime, without credentials', async () => {
    const r = await relay.call('GET', '/health', { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'healthy', version: relay.deps.version, uptime: expect.any(Number) });
  });

  it('answers 503 when the database cannot be reached', async () => {
    const ping = relay.deps.ping;
    relay.deps.ping = () => Promise.reject(new Error('connection refused'));
    try {
      const r = await relay.call('GET', '/health', { token: null });
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('unhealthy');
    } finally {
      relay.deps.ping = ping;
    }
  });
});

describe('unknown routes', () => {
  it('answer 404 not_found in the error shape', async () => {
    const r = await relay.call('GET', '/v2/nothing');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });

  it('answer a path agent id that is not an id with 422', async () => {
    const r = await relay.call('POST', '/v1/agents/bad%20id/inbox/pull');
    expect(r.status).toBe(422);
  });
});

describe('GET /openapi.json', () => {
  it('serves an OpenAPI 3.1 document that lists every endpoint', async () => {
    const r = await relay.call('GET', '/openapi.json', { token: null });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths).sort()).toEqual([
      '/.well-known/agent-keys.json',
      '/health',
      '/metrics',
      '/v1/agents',
      '/v1/agents/{id}',
      '/v1/agents/{id}/api-keys',
      '/v1/agents/{id}/api-keys/{key_id}',
      '/v1/agents/{id}/hmac-secret',
      '/v1/agents/{id}/inbox/pull',
      '/v1/agents/{id}/inbox/reclaim',
      '/v1/agents/{id}/inbox/stats',
      '/v1/agents/{id}/keys',
      '/v1/agents/{id}/keys/{kid}',
      '/v1/agents/{id}/messages',
      '/v1/agents/{id}/messages/{mid}/ack',
      '/v1/agents/{id}/messages/{mid}/nack',
      '/v1/agents/{id}/messages/{mid}/reply',
      '/v1/agents/{id}/sessions',
      '/v1/agents/{id}/sessions/{sid}',
      '/v1/agents/{id}/sessions/{sid}/heartbeat',
      '/v1/agents/{id}/ws',
      '/v1/broadcast',
      '/v1/messages/{mid}/status',
    ]);
  });
});
