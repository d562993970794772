import { canonicalJson } from './canonical-json.js';
import { fromBase64, fromHex, sha256Hex, toBase64, utf8Bytes } from './encoding.js';
import type { Envelope, EnvelopeSignature } from './types.js';

/**
 * An Ed25519 private key: the 32-byte seed as hex, as base64, as bytes, or a WebCrypto
 * `CryptoKey` (which may be non-extractable).
 */
export type SigningKeyInput = string | Uint8Array | CryptoKey;

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): WebCrypto imports private keys only this way.
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');

function seedBytes(input: string | Uint8Array): Uint8Array {
  const bytes =
    typeof input === 'string'
      ? /^[0-9a-fA-F]{64}$/.test(input)
        ? fromHex(input)
        : fromBase64(input)
      : input;
  if (bytes.length !== 32) throw new TypeError('signingKey must be a 32-byte Ed25519 seed (hex or base64)');
  return bytes;
}

/**
 * Imports a signing key for WebCrypto's Ed25519 (Node 20+, Workers, Deno, current browsers).
 *
 * @example
 * const key = await importSigningKey('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
 */
export async function importSigningKey(input: SigningKeyInput): Promise<CryptoKey> {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
  pkcs8.set(PKCS8_PREFIX);
  pkcs8.set(seedBytes(input), PKCS8_PREFIX.length);
  return crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
}

/**
 * The raw public key of a seed, as standard base64: what `POST /v1/agents/{id}/keys` takes as
 * `public_key`.
 *
 * @example
 * const publicKey = await publicKeyOf(process.env.ADMP_SIGNING_KEY!);
 * // register it: POST /v1/agents/me/keys {"kid": "2025-10", "public_key": publicKey}
 */
export async function publicKeyOf(input: string | Uint8Array): Promise<string> {
  // Typed by hand: Workers' types give exportKey one return type for every format.
  const jwk = (await crypto.subtle.exportKey('jwk', await importSigningKey(input))) as JsonWebKey;
  return toBase64(fromBase64(jwk.x ?? ''));
}

/**
 * SPEC's base string: `timestamp \n hex(sha256(JCS(body))) \n from \n to \n (correlation_id or "")`.
 *
 * @example
 * const text = await signatureBaseString(envelope);
 */
export async function signatureBaseString(
  envelope: Pick<Envelope, 'timestamp' | 'body' | 'from' | 'to' | 'correlation_id'>,
): Promise<string> {
  const bodyHash = await sha256Hex(canonicalJson(envelope.body));
  return `${envelope.timestamp}\n${bodyHash}\n${envelope.from}\n${envelope.to}\n${envelope.correlation_id ?? ''}`;
}

/**
 * Signs an envelope; the result goes in its `signature` field.
 *
 * @example
 * envelope.signature = await signEnvelope(envelope, await importSigningKey(seedHex), '2025-10');
 */
export async function signEnvelope(
  envelope: Pick<Envelope, 'timestamp' | 'body' | 'from' | 'to' | 'correlation_id'>,
  key: CryptoKey,
  kid: string,
): Promise<EnvelopeSignature> {
  const signature = await crypto.subtle.sign('Ed25519', key, utf8Bytes(await signatureBaseString(envelope)));
  return { alg: 'ed25519', kid, sig: toBase64(signature) };
}

/**
 * Checks an envelope's signature against a raw public key (standard base64 or base64url, as the
 * key directory's `x` has it). Recipients use it to trust a message beyond the relay.
 *
 * @example
 * const ok = await verifyEnvelope(message, directory.keys.find((k) => k.kid === message.signature?.kid)!.x);
 */
export async function verifyEnvelope(
  envelope: Pick<Envelope, 'timestamp' | 'body' | 'from' | 'to' | 'correlation_id' | 'signature'>,
  publicKey: string,
): Promise<boolean> {
  if (!envelope.signature) return false;
  const key = await crypto.subtle.importKey('raw', fromBase64(publicKey), { name: 'Ed25519' }, false, [
    'verify',
  ]);
  return crypto.subtle.verify(
    'Ed25519',
    key,
    fromBase64(envelope.signature.sig),
    utf8Bytes(await signatureBaseString(envelope)),
  );
}
