import { randomHex, sha256Hex, toHex, utf8Bytes } from './encoding.js';

/** A JWT, or a function that returns a current one (called before every request). */
export type JwtSource = string | (() => string | Promise<string>);

/** The three ways to authenticate (SPEC: Authentication). */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'apiKey'; apiKey: string }
  | { kind: 'jwt'; jwt: JwtSource }
  | { kind: 'hmac'; agentId: string; secret: string };

/** A request as it leaves: the path may gain a nonce, the headers carry the credential. */
export interface SignedRequest {
  pathWithQuery: string;
  headers: Record<string, string>;
}

export function pickCredentials(options: {
  agentId: string;
  apiKey?: string | undefined;
  hmacSecret?: string | undefined;
  jwt?: JwtSource | undefined;
}): Credentials {
  const given = [options.apiKey, options.hmacSecret, options.jwt].filter((v) => v !== undefined);
  if (given.length > 1) {
    throw new TypeError('ADMPClient: pass one of apiKey, hmacSecret or jwt, not several');
  }
  if (options.apiKey !== undefined) return { kind: 'apiKey', apiKey: options.apiKey };
  if (options.jwt !== undefined) return { kind: 'jwt', jwt: options.jwt };
  if (options.hmacSecret !== undefined) {
    return { kind: 'hmac', agentId: options.agentId, secret: options.hmacSecret };
  }
  return { kind: 'none' };
}

/** The bearer token for API-key and JWT modes (also what `?token=` carries on the WebSocket). */
export async function bearerToken(credentials: Credentials): Promise<string | undefined> {
  if (credentials.kind === 'apiKey') return credentials.apiKey;
  if (credentials.kind === 'jwt') {
    return typeof credentials.jwt === 'string' ? credentials.jwt : await credentials.jwt();
  }
  return undefined;
}

/**
 * SPEC's HMAC string to sign: `timestamp \n METHOD \n path_with_query \n hex(sha256(body))`.
 *
 * @example
 * await hmacSignature(secret, '1761240600', 'GET', '/v1/agents/a/inbox/stats', ''); // 64 hex chars
 */
export async function hmacSignature(
  secret: string,
  timestamp: string,
  method: string,
  pathWithQuery: string,
  body: string,
): Promise<string> {
  const message = `${timestamp}\n${method.toUpperCase()}\n${pathWithQuery}\n${await sha256Hex(body)}`;
  // The key is the secret's UTF-8 text as issued, not the 32 bytes its hex spells.
  const key = await crypto.subtle.importKey(
    'raw',
    utf8Bytes(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return toHex(await crypto.subtle.sign('HMAC', key, utf8Bytes(message)));
}

/**
 * Adds the credential to one attempt of a request. HMAC signs every attempt anew and adds a random
 * `nonce` query parameter: the relay accepts each signature once, and two identical requests in
 * the same second (a PULL loop, a retry) would otherwise carry the same one.
 */
export async function authorize(
  credentials: Credentials,
  method: string,
  pathWithQuery: string,
  body: string,
  nowMs: number,
): Promise<SignedRequest> {
  if (credentials.kind === 'hmac') {
    const signedPath = `${pathWithQuery}${pathWithQuery.includes('?') ? '&' : '?'}nonce=${randomHex()}`;
    const timestamp = String(Math.floor(nowMs / 1000));
    return {
      pathWithQuery: signedPath,
      headers: {
        'x-agent-id': credentials.agentId,
        'x-timestamp': timestamp,
        'x-signature': await hmacSignature(credentials.secret, timestamp, method, signedPath, body),
      },
    };
  }
  const token = await bearerToken(credentials);
  return { pathWithQuery, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } };
}
