import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { AGENT_ID_PATTERN } from '../envelope.js';
import { AuthFailure } from './failure.js';

/** FR-23: a signed request is accepted this many seconds either side of the relay's clock. */
export const HMAC_WINDOW_SEC = 300;
/**
 * A seen signature is remembered this long past its timestamp: the window itself, plus as much
 * again for relay processes whose clocks run behind the database's.
 */
export const HMAC_REMEMBER_SEC = 2 * HMAC_WINDOW_SEC;

const TIMESTAMP = /^\d{1,12}$/;
// Lowercase only: an uppercase twin of a seen signature would otherwise pass the replay check.
const SIGNATURE = /^[0-9a-f]{64}$/;

export interface HmacHeaders {
  agentId: string;
  /** As sent: the signed text includes it verbatim. */
  timestamp: string;
  signature: string;
}

/** SPEC: Authentication. The exact text both sides sign; the test vectors pin it down. */
export function stringToSign(timestamp: string, method: string, pathWithQuery: string, body: Uint8Array) {
  return `${timestamp}\n${method.toUpperCase()}\n${pathWithQuery}\n${bytesToHex(sha256(body))}`;
}

/** The secret's UTF-8 bytes as issued (64 hex characters), not the bytes they spell. */
export function importHmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
}

/** WebCrypto's verify compares in constant time. */
export function verifyHmac(key: CryptoKey, signature: string, message: string): Promise<boolean> {
  return crypto.subtle.verify('HMAC', key, hexToBytes(signature), new TextEncoder().encode(message));
}

/**
 * The three X- headers, or undefined when the request carries none of them. Any one of them
 * present means the caller meant HMAC, so a missing or malformed other is a 401, never a fallback.
 */
export function readHmacHeaders(header: (name: string) => string | undefined): HmacHeaders | undefined {
  const agentId = header('x-agent-id');
  const timestamp = header('x-timestamp');
  const signature = header('x-signature');
  if (agentId === undefined && timestamp === undefined && signature === undefined) return undefined;
  const claimed = agentId !== undefined && AGENT_ID_PATTERN.test(agentId) ? agentId : undefined;
  if (!claimed || !timestamp || !TIMESTAMP.test(timestamp) || !signature || !SIGNATURE.test(signature)) {
    throw new AuthFailure(
      'malformed_credentials',
      'HMAC needs X-Agent-Id (an agent id), X-Timestamp (unix seconds) and X-Signature (64 lowercase hex)',
      claimed,
    );
  }
  return { agentId: claimed, timestamp, signature };
}

/** Checked before any lookup: a stale request costs the relay nothing. */
export function requireFresh(h: HmacHeaders, nowMs: number): void {
  if (Math.abs(nowMs / 1000 - Number(h.timestamp)) > HMAC_WINDOW_SEC) {
    throw new AuthFailure(
      'stale_timestamp',
      `X-Timestamp must be within ${HMAC_WINDOW_SEC} seconds of the relay's clock`,
      h.agentId,
    );
  }
}
