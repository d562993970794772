import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { canonicalJson, sha256Hex } from '../envelope.js';
import { fromBase64 } from './crypto.js';

// The synchronous API: WebCrypto's SHA-512 would cost a thread-pool hop per verification.
ed.hashes.sha512 = sha512;

/** The parts of an envelope a signature covers (FR-24). */
export interface SignedFields {
  timestamp: string;
  body: Record<string, unknown>;
  from: string;
  to: string;
  correlation_id?: string | null | undefined;
}

/** SPEC: Ed25519 message signatures. `from` and `to` are the full agent:// URIs. */
export function signatureBaseString(e: SignedFields): string {
  return `${e.timestamp}\n${sha256Hex(canonicalJson(e.body))}\n${e.from}\n${e.to}\n${e.correlation_id ?? ''}`;
}

const PUBLIC_KEY = /^[A-Za-z0-9+/]{43}=$/;

/**
 * A standard-base64 32-byte key that is a canonical point on the curve, or undefined. Small-order
 * points are refused: with one, a single signature would verify for any message.
 */
export function readPublicKey(base64: string): Uint8Array | undefined {
  if (!PUBLIC_KEY.test(base64)) return undefined;
  const bytes = fromBase64(base64);
  try {
    return ed.Point.fromBytes(bytes, false).isSmallOrder() ? undefined : bytes;
  } catch {
    return undefined;
  }
}

/**
 * RFC 8032 verification with its strict encoding checks (not ZIP-215's looser ones), so one
 * message has exactly one valid signature per key and a signature cannot be re-encoded.
 */
export function verifySignature(
  publicKey: Uint8Array,
  signatureBase64: string,
  fields: SignedFields,
): boolean {
  try {
    const message = new TextEncoder().encode(signatureBaseString(fields));
    return ed.verify(fromBase64(signatureBase64), message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
