import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMPClient,
  APIConnectionError,
  APIError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from '../src/index.js';
import { backoffMs, parseRetryAfter } from '../src/retry.js';

// A scripted HTTP server: each request gets the next answer, so the retry policy is observed on
// the wire (attempts, headers, pauses) rather than inferred.
type Answer = { status: number; headers?: Record<string, string>; body?: unknown } | 'hang';
let server: ReturnType<typeof createServer> | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function scripted(answers: Answer[]) {
  const seen: { at: number; headers: IncomingMessage['headers']; url: string }[] = [];
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ at: Date.now(), headers: req.headers, url: req.url ?? '' });
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)] as Answer;
    if (answer === 'hang') return;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  server = http;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return { url, seen };
}

const message = { to: 'b', type: 'event' as const, subject: 's', body: {} };
const error = (code: string) => ({ error: { code, message: code } });

describe('retries', () => {
  it('retries a 503 and a 500, reusing one idempotency key, until the send is stored', async () => {
    const relay = await scripted([
      { status: 503, body: error('unavailable') },
      { status: 500, body: error('internal') },
      { status: 201, body: { message_id: 'm-1', status: 'delivered' } },
    ]);
    const client = new ADMPClient({ relayUrl: relay.url, agentId: 'a', apiKey: 'k' });
    expect(await client.send(message)).toBe('m-1');
    expect(relay.seen).toHaveLength(3);
    const keys = new Set(relay.seen.map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
  });

  it('honours Retry-After on a 429, then gives up with RateLimitError', async () => {
    const relay = await scripted([
      { status: 429, headers: { 'retry-after': '1' }, body: error('rate_limited') },
    ]);
    const client = new ADMPClient({ relayUrl: relay.url, agentId: 'a', apiKey: 'k', retries: 1 });
    const err = await client.inboxStats().catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryAfterMs: 1000 });
    expect(relay.seen).toHaveLength(2);
    expect((relay.seen[1]?.at ?? 0) - (relay.seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('never retries a 4xx that retrying cannot fix', async () => {
    const relay = await scripted([{ status: 422, body: error('validation_failed') }]);
    const client = new ADMPClient({ relayUrl: relay.url, agentId: 'a', apiKey: 'k' });
    await expect(client.send(message)).rejects.toBeInstanceOf(ValidationError);
    expect(relay.seen).toHaveLength(1);
  });

  it('signs each HMAC attempt anew, with a fresh nonce', async () => {
    const relay = await scripted([
      { status: 502 },
      { status: 200, body: { ready: 0, leased: 0, dead: 0, oldest_age_sec: 0 } },
    ]);
    const client = new ADMPClient({ relayUrl: relay.url, agentId: 'a', hmacSecret: 's'.repeat(64) });
    await client.inboxStats();
    const [first, second] = relay.seen;
    expect(first?.url).toMatch(/\/v1\/agents\/a\/inbox\/stats\?nonce=[0-9a-f]{32}$/);
    expect(first?.url).not.toBe(second?.url);
    expect(first?.headers['x-signature']).not.toBe(second?.headers['x-signature']);
  });

  it('throws TimeoutError when the relay does not answer in timeoutMs', async () => {
    const relay = await scripted(['hang']);
    const client = new ADMPClient({
      relayUrl: relay.url,
      agentId: 'a',
      apiKey: 'k',
      timeoutMs: 200,
      retries: 1,
    });
    const err = await client.inboxStats().catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toBeInstanceOf(APIError);
    expect(relay.seen).toHaveLength(2);
  });

  it('throws APIConnectionError when nothing listens', async () => {
    const client = new ADMPClient({ relayUrl: 'http://127.0.0.1:9', agentId: 'a', apiKey: 'k', retries: 1 });
    const err = await client.inboxStats().catch((e) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err.status).toBeUndefined();
    expect(err.code).toBe('connection_error');
  });

  it('backs off exponentially with jitter, and reads Retry-After as seconds or a date', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 0.999)).toBeLessThanOrEqual(500);
    expect(backoffMs(3, () => 0)).toBe(2000);
    expect(backoffMs(10, () => 0.999)).toBeLessThanOrEqual(8000);
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(Date.now() + 3_000).toUTCString())).toBeGreaterThan(1_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
