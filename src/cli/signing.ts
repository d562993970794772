import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { type SignedFields, signatureBaseString } from '../auth/signature.js';
import { CliError, type Context } from './command.js';

ed.hashes.sha512 = sha512;

const KEY = /^[A-Za-z0-9+/]{43}=$/;

/** A fresh Ed25519 pair, both halves standard base64 of the raw 32 bytes. */
export function generateKeyPair(): { private_key: string; public_key: string } {
  const { secretKey, publicKey } = ed.keygen();
  return { private_key: toBase64(secretKey), public_key: toBase64(publicKey) };
}

export const isPublicKey = (text: string) => KEY.test(text);

/** The envelope's `signature` field (SPEC: Ed25519 message signatures), made with `privateKey`. */
export function signEnvelope(fields: SignedFields, privateKey: string, kid: string) {
  if (!KEY.test(privateKey)) {
    throw new CliError('the signing key must be 32 bytes in standard base64 (see admp keys generate)', 2);
  }
  const message = new TextEncoder().encode(signatureBaseString(fields));
  const sig = ed.sign(message, Buffer.from(privateKey, 'base64'));
  return { alg: 'ed25519' as const, kid, sig: toBase64(sig) };
}

/**
 * Signs envelopes with `--kid` and `--signing-key` (or ADMP_SIGNING_KEY) when both are given,
 * leaves them as they are when neither is, and refuses one without the other.
 */
export function signerOf(c: Context): <E extends SignedFields>(envelope: E) => E {
  const kid = c.values.kid as string | undefined;
  const signingKey = (c.values['signing-key'] as string | undefined) ?? c.env.ADMP_SIGNING_KEY;
  if (kid && !signingKey) throw new CliError('--kid needs --signing-key <base64> or ADMP_SIGNING_KEY', 2);
  if (signingKey && !kid)
    throw new CliError('--signing-key needs --kid <kid>, the name it is registered under', 2);
  if (!kid || !signingKey) return (envelope) => envelope;
  return (envelope) => ({ ...envelope, signature: signEnvelope(envelope, signingKey, kid) });
}

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
