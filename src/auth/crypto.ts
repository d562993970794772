import { sha256 } from '@noble/hashes/sha2.js';

const encoder = new TextEncoder();

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

export function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/**
 * Compares two secrets in time that does not depend on where they differ: both are hashed to
 * 32 bytes first, so even their lengths stay hidden. Synchronous: it runs on every bearer
 * request, and WebCrypto's digest would cost a thread-pool hop each time.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = sha256(encoder.encode(a));
  const y = sha256(encoder.encode(b));
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

/** AES-256-GCM under a key derived from the server's secret; output is base64(iv ‖ ciphertext). */
export class SecretBox {
  private readonly key: Promise<CryptoKey>;

  constructor(serverSecret: string) {
    this.key = crypto.subtle
      .digest('SHA-256', encoder.encode(serverSecret))
      .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
  }

  async seal(plaintext: string): Promise<string> {
    const iv = randomBytes(12);
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv },
      await this.key,
      encoder.encode(plaintext),
    );
    const out = new Uint8Array(iv.length + sealed.byteLength);
    out.set(iv);
    out.set(new Uint8Array(sealed), iv.length);
    return toBase64(out);
  }

  async open(sealed: string): Promise<string> {
    const bytes = fromBase64(sealed);
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.slice(0, 12) },
      await this.key,
      bytes.slice(12),
    );
    return new TextDecoder().decode(plain);
  }
}
