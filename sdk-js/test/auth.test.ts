import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADMPClient,
  AuthenticationError,
  PermissionDeniedError,
  publicKeyOf,
  verifyEnvelope,
} from '../src/index.js';
import { ADMIN_KEY, JWT_SECRET, must, request, sharedRelay } from './support/live-relay.js';

const live = sharedRelay();
let inbox: ADMPClient;

beforeAll(async () => {
  inbox = await live.client('auth-inbox');
});

function jwtFor(sub: string, permissions?: string[]): Promise<string> {
  return new SignJWT(permissions ? { permissions } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

describe('HMAC request signing', () => {
  it('sends, pulls, acks and counts with signed requests only', async () => {
    const agent = await live.register('hmac');
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      hmacSecret: agent.hmacSecret,
    });
    const id = await client.send({ to: agent.agentId, type: 'event', subject: 'self', body: { n: 1 } });
    const msg = must(await client.pull());
    expect(msg.id).toBe(id);
    await client.ack(msg);
    expect(await client.inboxStats()).toMatchObject({ ready: 0, leased: 0 });
  });

  it('makes identical requests in the same second differ, so none is refused as a replay', async () => {
    const agent = await live.register('hmac-burst');
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      hmacSecret: agent.hmacSecret,
    });
    const stats = await Promise.all(Array.from({ length: 8 }, () => client.inboxStats()));
    expect(stats).toHaveLength(8);
    for (const s of stats) expect(s).toMatchObject({ ready: 0 });
  });

  it('is refused with a wrong secret', async () => {
    const agent = await live.register('hmac-wrong');
    const client = new ADMPClient({ relayUrl: live.url, agentId: agent.agentId, hmacSecret: 'f'.repeat(64) });
    await expect(client.inboxStats()).rejects.toBeInstanceOf(AuthenticationError);
  });
});

describe('JWT', () => {
  it('sends and pulls with a token, also from a function that returns a current one', async () => {
    const agent = await live.register('jwt');
    const fixed = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      jwt: await jwtFor(agent.agentId),
    });
    let minted = 0;
    const refreshing = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      jwt: () => {
        minted++;
        return jwtFor(agent.agentId);
      },
    });
    const id = await fixed.send({ to: inbox.agentId, type: 'event', subject: 'jwt', body: {} });
    expect(id).toBeTruthy();
    await fixed.send({ to: agent.agentId, type: 'event', subject: 'self', body: {} });
    const msg = must(await refreshing.pull());
    await refreshing.ack(msg);
    expect(minted).toBe(2);
  });

  it('is refused with PermissionDeniedError beyond its permissions', async () => {
    const agent = await live.register('jwt-narrow');
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      jwt: await jwtFor(agent.agentId, ['pull']),
    });
    const err = await client
      .send({ to: inbox.agentId, type: 'event', subject: 'x', body: {} })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await client.pull()).toBeNull();
  });
});

describe('Ed25519 envelope signing', () => {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const seedHex = Buffer.from(seed).toString('hex');

  it('signs every envelope so that the relay accepts it and the recipient can verify it', async () => {
    const agent = await live.register('signer');
    const publicKey = await publicKeyOf(seedHex);
    const registered = await request(live.url, 'POST', `/v1/agents/${agent.agentId}/keys`, ADMIN_KEY, {
      kid: 'k1',
      public_key: publicKey,
    });
    expect(registered.status).toBe(201);
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      apiKey: agent.apiKey,
      signingKey: seedHex,
      kid: 'k1',
    });
    const recipient = await live.client('signed-inbox');
    await client.send({
      to: recipient.agentId,
      type: 'event',
      subject: 'signed',
      body: { b: 2, a: [1, 'é'] },
      correlationId: 'c-1',
    });
    const msg = must(await recipient.pull());
    expect(msg.signature).toMatchObject({ alg: 'ed25519', kid: 'k1' });
    expect(await verifyEnvelope(msg, publicKey)).toBe(true);
    expect(await verifyEnvelope({ ...msg, body: { b: 3, a: [1, 'é'] } }, publicKey)).toBe(false);
    await recipient.ack(msg);
  });

  it('is refused as invalid_signature under a kid the relay does not know', async () => {
    const agent = await live.register('signer-unknown');
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      apiKey: agent.apiKey,
      signingKey: seed,
      kid: 'never-registered',
    });
    const err = await client
      .send({ to: inbox.agentId, type: 'event', subject: 'x', body: {} })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.code).toBe('invalid_signature');
  });
});
