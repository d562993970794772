import { sha256Hex } from './encoding.js';

/**
 * A fresh random idempotency key. `send()` makes one per call by itself; use this when you store
 * the key with your own job so that a retry of the whole job reuses it.
 *
 * @example
 * const key = newIdempotencyKey();
 * await client.send({ to: 'billing', type: 'task.request', subject: 'charge', body, idempotencyKey: key });
 */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/**
 * A key derived from what makes an operation unique (e.g. an order id), so that every process
 * that attempts the same operation sends the same key and the relay stores it once.
 *
 * @example
 * const key = await deriveIdempotencyKey('charge', order.id);
 * await client.send({ to: 'billing', type: 'task.request', subject: 'charge', body, idempotencyKey: key });
 */
export async function deriveIdempotencyKey(...parts: string[]): Promise<string> {
  if (parts.length === 0) throw new TypeError('deriveIdempotencyKey needs at least one part');
  // A separator that cannot be typed into a part keeps ('a:b','c') apart from ('a','b:c').
  return `admp-${await sha256Hex(parts.map((p) => encodeURIComponent(p)).join('|'))}`;
}
