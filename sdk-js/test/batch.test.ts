import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADMPClient,
  type BatchItem,
  NotFoundError,
  PermissionDeniedError,
  publicKeyOf,
  ValidationError,
  verifyEnvelope,
} from '../src/index.js';
import { ADMIN_KEY, JWT_SECRET, must, request, sharedRelay } from './support/live-relay.js';

const live = sharedRelay();
let sender: ADMPClient;

beforeAll(async () => {
  sender = await live.client('batch-sender');
});

const item = (to: string, subject: string, body: Record<string, unknown> = {}): BatchItem => ({
  to,
  type: 'task.request',
  subject,
  body,
});

/** Every message of an inbox, leased and acked, in the order it hands them out. */
async function drain(inbox: ADMPClient): Promise<string[]> {
  const seen: string[] = [];
  for (let m = await inbox.pull(); m; m = await inbox.pull()) {
    seen.push(m.subject);
    await inbox.ack(m);
  }
  return seen;
}

describe('sendBatch', () => {
  it('delivers to several recipients in order, and an unknown recipient fails alone with not_found', async () => {
    const billing = await live.client('batch-billing');
    const shipping = await live.client('batch-shipping');
    const results = await sender.sendBatch([
      item(billing.agentId, 'b1'),
      item(`agent://${shipping.agentId}`, 's1'),
      item('batch.nobody-here', 'lost'),
      item(billing.agentId, 'b2'),
    ]);

    expect(results).toHaveLength(4);
    const [b1, s1, lost, b2] = results;
    for (const ok of [b1, s1, b2]) expect(ok).toEqual({ messageId: expect.any(String) });
    expect(lost?.error).toBeInstanceOf(NotFoundError);
    expect(lost?.error).toMatchObject({ status: 404, code: 'not_found' });
    expect(typeof lost?.error?.message).toBe('string');
    expect(JSON.parse(JSON.stringify(lost))).toMatchObject({ error: { code: 'not_found', status: 404 } });

    expect(await drain(billing)).toEqual(['b1', 'b2']);
    expect(await drain(shipping)).toEqual(['s1']);
    expect((await sender.status(must(b2?.messageId))).to).toBe(`agent://${billing.agentId}`);
  });

  it('refuses an invalid envelope in its own slot, and throws only when the whole request is wrong', async () => {
    const inbox = await live.client('batch-invalid');
    const results = await sender.sendBatch([
      item(inbox.agentId, 'x'.repeat(256)),
      item(inbox.agentId, 'fine'),
      { ...item(inbox.agentId, 'forever'), ttlSec: 604_801 },
    ]);
    expect(results[0]?.error).toBeInstanceOf(ValidationError);
    expect(results[0]?.error).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(results[1]?.error).toBeUndefined();
    expect(results[2]?.error).toBeInstanceOf(ValidationError);
    expect(await drain(inbox)).toEqual(['fine']);

    const tooMany = Array.from({ length: 101 }, (_, i) => item(inbox.agentId, `m${i}`));
    const err = await sender.sendBatch(tooMany).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(await inbox.inboxStats()).toMatchObject({ ready: 0 });
  });

  it('checks a JWT’s send:<glob> permission per recipient', async () => {
    const agent = await live.register('batch-jwt');
    const allowed = await live.register('batch-allowed');
    const other = await live.client('batch-other');
    const jwt = await new SignJWT({ permissions: [`send:${allowed.agentId}`] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(agent.agentId)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const client = new ADMPClient({ relayUrl: live.url, agentId: agent.agentId, jwt });
    const [ok, denied] = await client.sendBatch([item(allowed.agentId, 'yes'), item(other.agentId, 'no')]);
    expect(ok?.error).toBeUndefined();
    expect(denied?.error).toBeInstanceOf(PermissionDeniedError);
    expect(denied?.error).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await other.inboxStats()).toMatchObject({ ready: 0 });
  });

  it('retries a batch whose answer was lost with the same envelopes, storing each once', async () => {
    const inbox = await live.client('batch-lossy');
    let calls = 0;
    const bodies: string[] = [];
    const lossy = await live.client('batch-lossy-sender', {
      // The first batch reaches the relay and is stored, then its answer is "lost" on the way back.
      fetch: async (input, init) => {
        bodies.push(String(init?.body));
        const response = await fetch(input, init);
        if (++calls === 1) throw new TypeError('connection reset');
        return response;
      },
    });
    const results = await lossy.sendBatch([item(inbox.agentId, 'one'), item(inbox.agentId, 'two')]);
    expect(calls).toBe(2);
    expect(bodies[1]).toBe(bodies[0]);
    const sent = JSON.parse(must(bodies[0])).messages.map((m: { id: string }) => m.id);
    expect(results.map((r) => r.messageId)).toEqual(sent);
    expect(results.every((r) => !r.error)).toBe(true);
    expect(await drain(inbox)).toEqual(['one', 'two']);
  });

  it('returns the same ids for an identical batch sent again, and stores it once', async () => {
    const inbox = await live.client('batch-again');
    const timestamp = new Date().toISOString();
    const items = ['a', 'b', 'c'].map((s) => ({
      ...item(inbox.agentId, s),
      id: crypto.randomUUID(),
      timestamp,
    }));
    const first = await sender.sendBatch(items);
    const again = await sender.sendBatch(items);
    expect(first.map((r) => r.messageId)).toEqual(items.map((i) => i.id));
    expect(again).toEqual(first);
    expect(await drain(inbox)).toEqual(['a', 'b', 'c']);
  });

  it('signs every envelope, over HMAC-signed requests, and the recipient verifies each', async () => {
    const agent = await live.register('batch-signer');
    const seed = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');
    const publicKey = await publicKeyOf(seed);
    const registered = await request(live.url, 'POST', `/v1/agents/${agent.agentId}/keys`, ADMIN_KEY, {
      kid: 'b1',
      public_key: publicKey,
    });
    expect(registered.status).toBe(201);
    const signer = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      hmacSecret: agent.hmacSecret,
      signingKey: seed,
      kid: 'b1',
    });
    const inbox = await live.client('batch-signed-inbox');
    const results = await signer.sendBatch([
      { ...item(inbox.agentId, 's1', { n: 1 }), correlationId: 'c-1' },
      item(inbox.agentId, 's2', { é: [1, 2] }),
    ]);
    expect(results.every((r) => !r.error)).toBe(true);
    for (const msg of await inbox.pullBatch({ maxMessages: 5 })) {
      expect(msg.signature).toMatchObject({ alg: 'ed25519', kid: 'b1' });
      expect(await verifyEnvelope(msg, publicKey)).toBe(true);
    }
  });

  it('sends nothing for an empty batch', async () => {
    const offline = await live.client('batch-empty', {
      fetch: () => Promise.reject(new Error('no request expected')),
    });
    expect(await offline.sendBatch([])).toEqual([]);
    expect(await offline.ackBatch([])).toEqual([]);
  });
});

describe('pullBatch', () => {
  it('leases up to maxMessages oldest first, then the rest, then an empty array', async () => {
    const inbox = await live.client('batch-pull');
    const subjects = ['m1', 'm2', 'm3', 'm4', 'm5'];
    await sender.sendBatch(subjects.map((s) => item(inbox.agentId, s)));

    const first = await inbox.pullBatch({ maxMessages: 3, visibilityTimeout: 60 });
    expect(first.map((m) => m.subject)).toEqual(['m1', 'm2', 'm3']);
    for (const m of first) {
      expect(m).toMatchObject({ status: 'leased', attempts: 0, from: `agent://${sender.agentId}` });
      expect(m.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const rest = await inbox.pullBatch({ maxMessages: 10 });
    expect(rest.map((m) => m.subject)).toEqual(['m4', 'm5']);
    expect(await inbox.pullBatch()).toEqual([]);
    expect(await inbox.inboxStats()).toMatchObject({ ready: 0, leased: 5 });
  });

  it('waits for a message that arrives during a long poll', async () => {
    const inbox = await live.client('batch-wait');
    const waiting = inbox.pullBatch({ maxMessages: 5, wait: 15 });
    await new Promise((r) => setTimeout(r, 300));
    const [sent] = await sender.sendBatch([item(inbox.agentId, 'late')]);
    const got = await waiting;
    expect(got.map((m) => m.id)).toContain(sent?.messageId);
  });
});

describe('ackBatch', () => {
  it('acks each message by its lease, and a stale lease fails alone with NotFoundError', async () => {
    const inbox = await live.client('batch-ack');
    await sender.sendBatch(['a1', 'a2', 'a3'].map((s) => item(inbox.agentId, s)));
    const [a1, a2, a3] = await inbox.pullBatch({ maxMessages: 3 });
    // a2 goes back and is leased again: the lease_id held in `a2` is now stale.
    await inbox.nack(must(a2));
    const [again] = await inbox.pullBatch({ maxMessages: 1 });
    expect(again?.id).toBe(a2?.id);

    const results = await inbox.ackBatch([
      must(a1),
      must(a2),
      { message_id: must(a3).id, lease_id: must(a3).lease_id },
    ]);
    expect(results[0]).toEqual({ messageId: a1?.id, status: 'acked' });
    expect(results[1]?.messageId).toBe(a2?.id);
    expect(results[1]?.error).toBeInstanceOf(NotFoundError);
    expect(results[1]?.error).toMatchObject({ status: 404, code: 'not_found' });
    expect(results[2]).toEqual({ messageId: a3?.id, status: 'acked' });
    expect(await inbox.inboxStats()).toMatchObject({ ready: 0, leased: 1 });

    expect(await inbox.ackBatch([must(again)])).toEqual([{ messageId: again?.id, status: 'acked' }]);
    expect((await sender.status(must(a2).id)).status).toBe('acked');
  });
});
