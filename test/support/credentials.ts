import { createHash, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import canonicalize from 'canonicalize';
import { SignJWT } from 'jose';
import type { Agent, CallOptions, Reply, TestRelay } from './relay.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Signs requests and envelopes with node:crypto (OpenSSL), independently of the relay's
 * WebCrypto and noble code, so a test passes only if both agree with SPEC.
 */
export function hmacHeaders(
  secret: string,
  agentId: string,
  method: string,
  pathWithQuery: string,
  body = '',
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signed = `${timestamp}\n${method}\n${pathWithQuery}\n${sha256(Buffer.from(body, 'utf8'))}`;
  return {
    'x-agent-id': agentId,
    'x-timestamp': String(timestamp),
    'x-signature': createHmac('sha256', Buffer.from(secret, 'utf8')).update(signed).digest('hex'),
  };
}

/** A request authenticated by HMAC: the body is sent exactly as it was signed. */
export function callHmac<T = any>(
  relay: TestRelay,
  agent: Agent,
  method: string,
  path: string,
  body?: unknown,
  options: { timestamp?: number; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const headers = {
    ...(raw ? { 'content-type': 'application/json' } : {}),
    ...hmacHeaders(agent.hmacSecret, agent.id, method, path, raw, options.timestamp),
    ...options.headers,
  };
  const call: CallOptions = { token: null, headers, ...(raw ? { raw } : {}) };
  return relay.call<T>(method, path, call);
}

export interface SigningKey {
  kid: string;
  publicKey: string;
  sign(envelope: Record<string, any>): { alg: 'ed25519'; kid: string; sig: string };
}

export function signingKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return {
    kid,
    publicKey: raw.toString('base64'),
    sign(e) {
      const base = `${e.timestamp}\n${sha256(Buffer.from(canonicalize(e.body) as string, 'utf8'))}\n${e.from}\n${e.to}\n${e.correlation_id ?? ''}`;
      return {
        alg: 'ed25519',
        kid,
        sig: sign(null, Buffer.from(base, 'utf8'), privateKey).toString('base64'),
      };
    },
  };
}

export const JWT_SECRET = 'jwt-test-secret-0123456789abcdef-0123456789';

/** An HS256 token for `sub`, valid for a minute unless `claims` says otherwise. */
export function hs256(
  sub: string,
  claims: Record<string, unknown> = {},
  secret = JWT_SECRET,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ exp: now + 60, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .sign(new TextEncoder().encode(secret));
}
