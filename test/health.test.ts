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
      '/v1/agents/{id}/dead-letters',
      '/v1/agents/{id}/dead-letters/redrive',
      '/v1/agents/{id}/dead-letters/{mid}',
      '/v1/agents/{id}/events',
      '/v1/agents/{id}/hmac-secret',
      '/v1/agents/{id}/inbox/ack-batch',
      '/v1/agents/{id}/inbox/pull',
      '/v1/agents/{id}/inbox/pull-batch',
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
      '/v1/messages/batch',
      '/v1/messages/{mid}',
      '/v1/messages/{mid}/status',
      '/v1/threads/{correlation_id}',
    ]);
  });

  it('puts every operation in one of the groups it declares, each group described and used', async () => {
    const r = await relay.call('GET', '/openapi.json', { token: null });
    const declared: { name: string; description: string }[] = r.body.tags;
    expect(declared.map((t) => t.name)).toEqual([
      'Messages',
      'Inbox',
      'Dead letters',
      'Browsing',
      'Realtime',
      'Agents',
      'Keys',
      'Health',
    ]);
    for (const tag of declared) expect(tag.description, tag.name).toMatch(/\w/);
    const used = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, { tags?: string[]; summary: string }>>(
      r.body.paths,
    )) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.tags, `${method} ${path}`).toHaveLength(1);
        expect(
          declared.map((t) => t.name),
          `${method} ${path}`,
        ).toContain(op.tags?.[0]);
        used.add(op.tags?.[0] ?? '');
        // Short and plain: no requirement numbers, no protocol verbs in capitals.
        expect(op.summary, `${method} ${path}`).not.toMatch(/FR-\d|\b(?:SEND|PULL|ACK|NACK|REPLY)\b/);
        expect(op.summary.length, `${method} ${path}`).toBeLessThanOrEqual(50);
      }
    }
    expect([...used].sort()).toEqual(declared.map((t) => t.name).sort());
  });
});
