import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../src/db/database.js';
import { callHmac, hs256, JWT_SECRET } from './support/credentials.js';
import { expectError } from './support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let alice: Agent;
let bob: Agent;
let bobsMessage: { id: string; leaseId: string };
beforeAll(async () => {
  relay = await startTestRelay({ JWT_SECRET });
  alice = await relay.registerAgent('acl.alice');
  bob = await relay.registerAgent('acl.bob');
  const sent = await relay.send(alice, 'acl.bob');
  const pulled = await relay.pull(bob);
  bobsMessage = { id: sent.body.message_id, leaseId: pulled.body.lease_id };
});
afterAll(() => relay.close());

describe('agent A and agent B’s messages', () => {
  const publicKey = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
  // Valid requests in every respect but whose they are, so only authorization can refuse them.
  const operations = (): [string, string, unknown?][] => [
    ['POST', '/v1/agents/acl.bob/inbox/pull'],
    ['POST', `/v1/agents/acl.bob/messages/${bobsMessage.id}/ack?lease_id=${bobsMessage.leaseId}`],
    ['POST', `/v1/agents/acl.bob/messages/${bobsMessage.id}/nack?lease_id=${bobsMessage.leaseId}`],
    ['POST', `/v1/agents/acl.bob/messages/${bobsMessage.id}/reply`, { result: { ok: true } }],
    ['GET', '/v1/agents/acl.bob/inbox/stats'],
    ['POST', '/v1/agents/acl.bob/inbox/reclaim'],
    ['GET', '/v1/agents/acl.bob'],
    ['DELETE', '/v1/agents/acl.bob'],
    ['POST', '/v1/agents/acl.bob/api-keys', {}],
    ['POST', '/v1/agents/acl.bob/keys', { kid: 'planted', public_key: publicKey }],
    ['GET', '/v1/agents/acl.bob/dead-letters'],
    ['POST', '/v1/agents/acl.bob/dead-letters/redrive', { all: true }],
    ['DELETE', `/v1/agents/acl.bob/dead-letters/${bobsMessage.id}`],
    ['GET', '/v1/agents/acl.bob/messages'],
    ['GET', '/v1/agents/acl.bob/messages?direction=sent'],
  ];

  it('A cannot pull, ack, nack, reply to, count, reclaim or manage B’s inbox with its API key', async () => {
    for (const [method, path, body] of operations()) {
      const r = await relay.call(method, path, {
        token: alice.apiKey,
        ...(body === undefined ? {} : { body }),
      });
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
    }
  });

  it('A cannot do any of it with HMAC or a JWT either', async () => {
    const jwt = await hs256('acl.alice', { permissions: ['send', 'pull'] });
    for (const [method, path, body] of operations()) {
      expect({ path, status: (await callHmac(relay, alice, method, path, body)).status }).toEqual({
        path,
        status: 403,
      });
      const r = await relay.call(method, path, { token: jwt, ...(body === undefined ? {} : { body }) });
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
    }
  });

  it('A sees 404 for the status of a message between B and someone else, and 200 for its own', async () => {
    const carol = await relay.registerAgent('acl.carol');
    const private_ = (await relay.send(carol, 'acl.bob')).body.message_id;
    expectError(
      await relay.call('GET', `/v1/messages/${private_}/status`, { token: alice.apiKey }),
      404,
      'not_found',
    );
    expect(
      (await relay.call('GET', `/v1/messages/${bobsMessage.id}/status`, { token: alice.apiKey })).status,
    ).toBe(200);
    expect(
      (await relay.call('GET', `/v1/messages/${bobsMessage.id}/status`, { token: bob.apiKey })).status,
    ).toBe(200);
  });

  it('A sees 404 for the thread of, and cannot cancel, a message between B and someone else', async () => {
    const dave = await relay.registerAgent('acl.dave');
    const private_ = (await relay.send(dave, 'acl.bob')).body.message_id;
    for (const [method, path] of [
      ['GET', `/v1/threads/${private_}`],
      ['DELETE', `/v1/messages/${private_}`],
    ] as const) {
      expectError(await relay.call(method, path, { token: alice.apiKey }), 404, 'not_found');
    }
    expect((await relay.call('GET', `/v1/threads/${private_}`, { token: bob.apiKey })).status).toBe(200);
    expect((await relay.call('GET', `/v1/messages/${private_}/status`)).body.status).toBe('delivered');
  });

  it('B’s message is still leased to B after all of A’s attempts', async () => {
    const r = await relay.call(
      'POST',
      `/v1/agents/acl.bob/messages/${bobsMessage.id}/ack?lease_id=${bobsMessage.leaseId}`,
      {
        token: bob.apiKey,
      },
    );
    expect(r.body).toEqual({ status: 'acked' });
  });
});

describe('sender spoofing', () => {
  it('refuses an envelope whose from is another agent, whatever the credential', async () => {
    const spoofed = envelope('acl.bob', 'acl.alice');
    const path = '/v1/agents/acl.alice/messages';
    expectError(
      await relay.call('POST', path, { token: alice.apiKey, body: spoofed }),
      403,
      'sender_mismatch',
    );
    expectError(await callHmac(relay, alice, 'POST', path, spoofed), 403, 'sender_mismatch');
    expectError(
      await relay.call('POST', path, { token: await hs256('acl.alice'), body: spoofed }),
      403,
      'sender_mismatch',
    );
    expect(
      (await relay.call('GET', '/v1/agents/acl.alice/inbox/stats', { token: alice.apiKey })).body.ready,
    ).toBe(0);
  });

  it('lets the admin send on behalf of any agent', async () => {
    expect(
      (await relay.call('POST', '/v1/agents/acl.alice/messages', { body: envelope('acl.bob', 'acl.alice') }))
        .status,
    ).toBe(201);
  });
});

describe('the audit log', () => {
  it('records each refusal with its reason and the agent who tried, and never a credential', async () => {
    await relay.deps.audit.flush();
    const audited = await rows<{ agent_id: string | null; detail: any }>(
      relay.db,
      sql`select agent_id, detail from audit_log where event = 'auth.failure' order by id`,
    );
    const reasons = new Set(audited.map((a) => a.detail.reason));
    expect(reasons).toEqual(new Set(['forbidden', 'sender_mismatch']));
    expect(
      audited.filter((a) => a.detail.reason === 'sender_mismatch').every((a) => a.agent_id === 'acl.alice'),
    ).toBe(true);
    const text = JSON.stringify(audited);
    for (const secret of [alice.apiKey, alice.hmacSecret, bob.apiKey, JWT_SECRET])
      expect(text).not.toContain(secret);
    expect(audited[0]?.detail).toEqual({
      reason: 'forbidden',
      status: 403,
      method: 'POST',
      path: '/v1/agents/acl.bob/inbox/pull',
      credential: 'api_key',
    });
  });
});
