import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let alice: Agent;
let bob: Agent;

beforeAll(async () => {
  relay = await startTestRelay();
  alice = await relay.registerAgent('auth.backend');
  bob = await relay.registerAgent('storage.pg');
});
afterAll(() => relay.close());

describe('SEND', () => {
  it('stores an envelope and answers 201 with its id and status delivered', async () => {
    const e = envelope(alice.id, bob.id, {
      correlation_id: 'c-1',
      headers: { priority: 'high' },
      ttl_sec: 60,
    });
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, { token: alice.apiKey, body: e });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ message_id: e.id, status: 'delivered' });
    const pulled = await relay.pull(bob);
    expect(pulled.body).toMatchObject({ ...e, status: 'leased', attempts: 0 });
    await relay.ack(bob, e.id, pulled.body.lease_id);
  });

  it('returns the timestamp exactly as sent, offset and fraction included', async () => {
    const now = new Date(Date.now() + 3_600_000);
    const local = `${now.toISOString().slice(0, 19)}.123456+01:00`;
    const r = await relay.send(alice, bob.id, { timestamp: local });
    expect(r.status).toBe(201);
    const pulled = await relay.pull(bob);
    expect(pulled.body.timestamp).toBe(local);
    await relay.ack(bob, pulled.body.id, pulled.body.lease_id);
  });

  it('accepts the PRD appendix m- id form', async () => {
    const id = `m-${crypto.randomUUID()}`;
    const r = await relay.send(alice, bob.id, { id });
    expect(r.body.message_id).toBe(id);
  });

  it('answers a repeated Idempotency-Key with the first id, whatever the envelope', async () => {
    const first = await relay.send(alice, bob.id, {}, { 'idempotency-key': 'order-42' });
    const second = await relay.send(alice, bob.id, { subject: 'other' }, { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.message_id).toBe(first.body.message_id);
    const stats = await relay.call('GET', `/v1/agents/${bob.id}/inbox/stats`);
    const before = stats.body.ready;
    await relay.send(alice, bob.id, { subject: 'third' }, { 'idempotency-key': 'order-42' });
    expect((await relay.call('GET', `/v1/agents/${bob.id}/inbox/stats`)).body.ready).toBe(before);
  });

  it('keeps idempotency keys per recipient', async () => {
    const carol = await relay.registerAgent('carol');
    const a = await relay.send(alice, bob.id, {}, { 'idempotency-key': 'shared' });
    const b = await relay.send(alice, carol.id, {}, { 'idempotency-key': 'shared' });
    expect(b.status).toBe(201);
    expect(b.body.message_id).not.toBe(a.body.message_id);
  });

  it('answers an identical envelope with 201 and the same id, storing it once', async () => {
    const e = envelope(alice.id, bob.id);
    const opts = { token: alice.apiKey, body: e };
    const a = await relay.call('POST', `/v1/agents/${bob.id}/messages`, opts);
    const b = await relay.call('POST', `/v1/agents/${bob.id}/messages`, opts);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.message_id).toBe(e.id);
  });

  it('recognises an identical envelope by fingerprint before checking the timestamp window', async () => {
    const e = envelope(alice.id, bob.id);
    await relay.call('POST', `/v1/agents/${bob.id}/messages`, { token: alice.apiKey, body: e });
    // Move the stored copy's timestamp window by rewriting the relay's notion of now.
    const realNow = relay.deps.clock.now;
    relay.deps.clock.now = () => realNow() + 6 * 60_000;
    try {
      const again = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
        token: alice.apiKey,
        body: e,
      });
      expect(again.status).toBe(201);
      expect(again.body.message_id).toBe(e.id);
      const fresh = await relay.send(alice, bob.id, { timestamp: e.timestamp });
      expectError(fresh, 422, 'timestamp_window_exceeded');
    } finally {
      relay.deps.clock.now = realNow;
    }
  });

  it('refuses the same id with different content with 409 id_conflict', async () => {
    const e = envelope(alice.id, bob.id);
    await relay.call('POST', `/v1/agents/${bob.id}/messages`, { token: alice.apiKey, body: e });
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
      token: alice.apiKey,
      body: { ...e, subject: 'changed' },
    });
    expectError(r, 409, 'id_conflict');
  });

  it('treats ids case-insensitively', async () => {
    const e = envelope(alice.id, bob.id);
    await relay.call('POST', `/v1/agents/${bob.id}/messages`, { token: alice.apiKey, body: e });
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
      token: alice.apiKey,
      body: { ...e, id: e.id.toUpperCase() },
    });
    expect(r.body.message_id).toBe(e.id);
  });

  it('refuses a sender that is not the caller with 403 sender_mismatch', async () => {
    expectError(await relay.send(alice, bob.id, { from: 'agent://storage.pg' }), 403, 'sender_mismatch');
  });

  it('lets the admin send for any agent', async () => {
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, { body: envelope('anyone', bob.id) });
    expect(r.status).toBe(201);
  });

  it('refuses a to that is not the path agent with 422', async () => {
    expectError(await relay.send(alice, bob.id, { to: 'agent://someone.else' }), 422, 'validation_failed');
  });

  it('answers 404 for a recipient that does not exist', async () => {
    expectError(await relay.send(alice, 'nobody', {}), 404, 'not_found');
  });

  it('accepts a body of exactly 1 MiB and refuses 1 MiB + 1 byte with 413', async () => {
    const padFor = (bytes: number) => 'x'.repeat(bytes - JSON.stringify({ pad: '' }).length);
    const ok = await relay.send(alice, bob.id, { body: { pad: padFor(1_048_576) } });
    expect(ok.status).toBe(201);
    expectError(
      await relay.send(alice, bob.id, { body: { pad: padFor(1_048_577) } }),
      413,
      'payload_too_large',
    );
  });

  it('counts body size in UTF-8 bytes', async () => {
    const euro = '€'.repeat(349_526); // 3 bytes each: 1,048,578 bytes of text
    expectError(await relay.send(alice, bob.id, { body: { pad: euro } }), 413, 'payload_too_large');
  });

  it('refuses a request far over the limit before reading it, with 413', async () => {
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
      token: alice.apiKey,
      raw: `{"pad":"${'x'.repeat(3_000_000)}"}`,
      headers: { 'content-type': 'application/json' },
    });
    expectError(r, 413, 'payload_too_large');
  });

  it('refuses envelope headers of 100 KB with 413', async () => {
    const r = await relay.send(alice, bob.id, { headers: { big: 'h'.repeat(100_000) } });
    expectError(r, 413, 'payload_too_large');
  });

  it('refuses ttl_sec over 7 days with 422 ttl_too_long', async () => {
    expectError(await relay.send(alice, bob.id, { ttl_sec: 604_801 }), 422, 'ttl_too_long');
    expect((await relay.send(alice, bob.id, { ttl_sec: 604_800 })).status).toBe(201);
  });

  it.each([
    ['five minutes and one second old', -301_000],
    ['in the future', 301_000],
  ])('refuses a timestamp %s with 422 timestamp_window_exceeded', async (_, offset) => {
    const r = await relay.send(alice, bob.id, { timestamp: new Date(Date.now() + offset).toISOString() });
    expectError(r, 422, 'timestamp_window_exceeded');
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    for (const raw of ['{', '{"id": }', 'nul', '{"a":1}}', '\u0000']) {
      const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
        token: alice.apiKey,
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expectError(r, 400, 'invalid_json');
    }
  });

  it('answers a body that is not JSON with 415', async () => {
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
      token: alice.apiKey,
      raw: 'id=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectError(r, 415, 'unsupported_media_type');
  });

  it.each([
    ['a missing field', { subject: undefined }],
    ['an unknown top-level field', { priority: 'high' }],
    [
      'an unknown field inside signature',
      { signature: { alg: 'ed25519', kid: 'k', sig: `${'A'.repeat(86)}==`, x: 1 } },
    ],
    ['a wrong signature alg', { signature: { alg: 'rsa', kid: 'k', sig: `${'A'.repeat(86)}==` } }],
    ['a body that is an array', { body: [1, 2] }],
    ['a body that is a string', { body: 'text' }],
    ['a null body', { body: null }],
    ['headers that are an array', { headers: ['a'] }],
    ['a numeric subject', { subject: 42 }],
    ['an empty subject', { subject: '' }],
    ['a 256-character subject', { subject: 's'.repeat(256) }],
    ['a NUL in the subject', { subject: 'a\u0000b' }],
    ['a lone surrogate in the subject', { subject: 'a\ud800b' }],
    ['a lone surrogate in the body', { body: { text: 'a\udc00' } }],
    ['a lone surrogate in a body key', { body: { '\ud800': 1 } }],
    ['a lone surrogate in headers', { headers: { h: ['\ud800'] } }],
    ['an unknown type', { type: 'task.other' }],
    ['version 2.0', { version: '2.0' }],
    ['a non-UUID id', { id: 'not-a-uuid' }],
    ['a bare agent id in from', { from: 'auth.backend' }],
    ['a timestamp without offset', { timestamp: '2025-10-23T17:30:00' }],
    ['a timestamp on February 30', { timestamp: '2026-02-30T10:00:00Z' }],
    ['a date-only timestamp', { timestamp: '2025-10-23' }],
    ['a fractional ttl', { ttl_sec: 1.5 }],
    ['a zero ttl', { ttl_sec: 0 }],
    ['a string ttl', { ttl_sec: '60' }],
    ['a 256-character correlation id', { correlation_id: 'c'.repeat(256) }],
  ])('answers %s with 422 validation_failed', async (_, overrides) => {
    const r = await relay.send(alice, bob.id, overrides);
    expectError(r, 422, 'validation_failed');
  });

  it('names every bad field in the message', async () => {
    const r = await relay.send(alice, bob.id, { subject: '', ttl_sec: 0, extra: true });
    expect(r.body.error.message).toMatch(/subject/);
    expect(r.body.error.message).toMatch(/ttl_sec/);
    expect(r.body.error.message).toMatch(/extra/);
  });

  it('stores unicode edge cases in the body byte for byte', async () => {
    const body = {
      nul: 'a\u0000b',
      emoji: '👩‍💻🏳️‍🌈',
      rtl: '\u202eabc',
      bom: '\ufeff',
      nested: { '': [null, 1e308, -0, 0.1, true] },
      ключ: '値',
    };
    const r = await relay.send(alice, bob.id, { body });
    expect(r.status).toBe(201);
    const pulled = await relay.pull(bob, '?visibility_timeout=1');
    // Skip earlier test messages still ready in this inbox.
    let found = pulled.body;
    while (found && found.id !== r.body.message_id) {
      await relay.ack(bob, found.id, found.lease_id);
      found = (await relay.pull(bob)).body;
    }
    expect(found.body).toEqual(JSON.parse(JSON.stringify(body)));
  });

  it('keeps a __proto__ key in the body as sent', async () => {
    const carol = await relay.registerAgent('proto.inbox');
    const e = envelope(alice.id, carol.id);
    const raw = JSON.stringify(e).replace('"body":{', '"body":{"__proto__":{"kept":true},');
    const r = await relay.call('POST', `/v1/agents/${carol.id}/messages`, {
      token: alice.apiKey,
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(201);
    const response = await relay.app.request(`/v1/agents/${carol.id}/inbox/pull`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol.apiKey}` },
    });
    expect(await response.text()).toContain('"body":{"__proto__":{"kept":true},"email":"user@example.com"}');
  });

  it('answers a missing or unknown credential with 401', async () => {
    const e = envelope(alice.id, bob.id);
    for (const token of [null, 'nope', `admp_${'0'.repeat(16)}_${'A'.repeat(43)}`]) {
      const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, { token, body: e });
      expectError(r, 401, 'unauthorized');
    }
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
      token: null,
      body: e,
      headers: { authorization: 'Basic abc' },
    });
    expectError(r, 401, 'unauthorized');
  });

  it('puts a request id on errors and echoes a given one', async () => {
    const r = await relay.call('POST', `/v1/agents/${bob.id}/messages`, {
      token: null,
      body: {},
      headers: { 'x-request-id': 'req-123' },
    });
    expect(r.body.request_id).toBe('req-123');
    expect(r.headers.get('x-request-id')).toBe('req-123');
  });
});
