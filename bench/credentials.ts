import { createHash, createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

export const AUTH_MODES = ['apikey', 'hmac', 'jwt', 'admin'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** How one agent authenticates (docs/security.md): a bearer token, or HMAC under its secret. */
export type Credential =
  | { readonly bearer: string }
  | { readonly agentId: string; readonly hmacSecret: string };

/** What registering an agent or issuing a key hands back; the HMAC secret only comes with registration. */
export interface Issued {
  readonly id: string;
  readonly apiKey: string;
  readonly hmacSecret: string | undefined;
}

/** The credential a bench agent uses in `mode`; `admin` acts for every agent with the admin key. */
export async function credentialFor(
  mode: AuthMode,
  issued: Issued,
  keys: { adminKey: string; jwtSecret: string | undefined },
): Promise<Credential> {
  if (mode === 'admin') return { bearer: keys.adminKey };
  if (mode === 'apikey') return { bearer: issued.apiKey };
  if (mode === 'hmac') {
    if (!issued.hmacSecret) throw new Error(`--auth hmac needs freshly registered agents; drop --prefix`);
    return { agentId: issued.id, hmacSecret: issued.hmacSecret };
  }
  if (!keys.jwtSecret) throw new Error('--auth jwt needs --jwt-secret (the relay’s JWT_SECRET)');
  const day = Math.floor(Date.now() / 1000) + 86_400;
  const token = await new SignJWT({ exp: day })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(issued.id)
    .sign(new TextEncoder().encode(keys.jwtSecret));
  return { bearer: token };
}

/**
 * The path to request and the headers that authenticate it. HMAC requests carry a random `nonce`
 * query parameter: the relay accepts each signature once, and a bench repeats the same PULL many
 * times a second, which would otherwise sign identically within one X-Timestamp second.
 */
export function authenticate(
  credential: Credential,
  method: string,
  url: URL,
  body: string,
): { url: URL; headers: Record<string, string> } {
  if ('bearer' in credential) return { url, headers: { authorization: `Bearer ${credential.bearer}` } };
  const signed = new URL(url);
  signed.searchParams.set('nonce', randomBytes(8).toString('hex'));
  const timestamp = String(Math.floor(Date.now() / 1000));
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const message = `${timestamp}\n${method}\n${signed.pathname}${signed.search}\n${bodyHash}`;
  return {
    url: signed,
    headers: {
      'x-agent-id': credential.agentId,
      'x-timestamp': timestamp,
      'x-signature': createHmac('sha256', credential.hmacSecret).update(message).digest('hex'),
    },
  };
}
