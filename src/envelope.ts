import { z } from '@hono/zod-openapi';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import canonicalize from 'canonicalize';

export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const AGENT_URI_PATTERN = /^agent:\/\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;
// A UUID, or the PRD appendix's `m-` prefixed form of one.
export const MESSAGE_ID_PATTERN =
  /^(m-)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/;

export const MESSAGE_TYPES = ['task.request', 'task.result', 'task.error', 'event'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const MAX_BODY_BYTES = 1_048_576;
export const MAX_HEADERS_BYTES = 65_536;
export const MAX_TTL_SEC = 604_800;
export const DEFAULT_TTL_SEC = 86_400;

/** Issues that carry their own error code (413, ttl_too_long) instead of validation_failed. */
export const codedIssue = (code: string, message: string) => ({
  code: 'custom' as const,
  message,
  params: { code },
});

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Text the database can store as it came: PostgreSQL `text` holds no NUL, and a lone surrogate
 * would silently become U+FFFD, so both are refused rather than altered.
 */
export const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\u0000') && s.isWellFormed(), 'must be valid Unicode without NUL characters');

export const agentId = z.string().regex(AGENT_ID_PATTERN, 'must be an agent id such as auth.backend');
export const agentUri = z
  .string()
  .regex(AGENT_URI_PATTERN, 'must be an agent URI such as agent://auth.backend');
export const messageId = z.string().regex(MESSAGE_ID_PATTERN, 'must be a UUID');

/** Parses a strict ISO 8601 timestamp with an offset; `undefined` for anything else, Feb 30 included. */
export function parseTimestamp(value: string): number | undefined {
  const m = TIMESTAMP_PATTERN.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, , zone, oh, om] = m;
  const year = Number(y);
  const month = Number(mo) - 1;
  const day = Number(d);
  const utc = Date.UTC(year, month, day, Number(h), Number(mi), Number(s));
  const date = new Date(utc);
  if (
    date.getUTCMonth() !== month ||
    date.getUTCDate() !== day ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return undefined;
  if (Number(oh ?? 0) > 23 || Number(om ?? 0) > 59) return undefined;
  const fraction = m[7] ? Number(`0${m[7]}`) * 1000 : 0;
  const offsetMin = zone === 'Z' ? 0 : (zone?.startsWith('-') ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return utc + fraction - offsetMin * 60_000;
}

/** RFC 8785 canonical form, and so fingerprints and signatures, exist only for well-formed Unicode. */
function isWellFormedJson(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (Array.isArray(value)) return value.every(isWellFormedJson);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).every(([k, v]) => k.isWellFormed() && isWellFormedJson(v));
  }
  return true;
}

const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A JSON object, passed through untouched: a record schema would rebuild it and silently drop a
 * `__proto__` key, altering the body (and breaking its signature) without a word.
 */
const jsonObject = z
  .custom<Record<string, unknown>>(isJsonObject, 'expected a JSON object')
  .refine(isWellFormedJson, 'must be valid Unicode (a lone surrogate was found)')
  .openapi({ type: 'object', additionalProperties: true });

export const envelopeSchema = z
  .object({
    version: z.literal('1.0').nullish(),
    id: messageId,
    type: z.enum(MESSAGE_TYPES),
    from: agentUri,
    to: agentUri,
    subject: text(255),
    body: jsonObject.superRefine((body, ctx) => {
      const size = utf8Length(JSON.stringify(body));
      if (size > MAX_BODY_BYTES) {
        ctx.addIssue(
          codedIssue('payload_too_large', `body is ${size} bytes; the limit is ${MAX_BODY_BYTES}`),
        );
      }
    }),
    timestamp: z
      .string()
      .refine(
        (t) => parseTimestamp(t) !== undefined,
        'must be ISO 8601 with an offset, e.g. 2025-10-23T17:30:00Z',
      ),
    correlation_id: text(255).nullish(),
    headers: jsonObject.nullish().superRefine((headers, ctx) => {
      const size = headers ? utf8Length(JSON.stringify(headers)) : 0;
      if (size > MAX_HEADERS_BYTES) {
        ctx.addIssue(
          codedIssue('payload_too_large', `headers are ${size} bytes; the limit is ${MAX_HEADERS_BYTES}`),
        );
      }
    }),
    ttl_sec: z
      .number()
      .int()
      .min(1)
      .superRefine((ttl, ctx) => {
        if (ttl > MAX_TTL_SEC)
          ctx.addIssue(codedIssue('ttl_too_long', `ttl_sec may be at most ${MAX_TTL_SEC}`));
      })
      .nullish(),
    signature: z
      .object({
        alg: z.literal('ed25519'),
        kid: text(255),
        sig: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be a base64 Ed25519 signature (64 bytes)'),
      })
      .strict()
      .nullish(),
  })
  .strict()
  .openapi('Envelope');

export type Envelope = z.infer<typeof envelopeSchema>;

export const agentOf = (uri: string) => uri.slice('agent://'.length);

export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError('value has no JSON form');
  return out;
}

/**
 * Synchronous and pure JS: WebCrypto's digest costs ~60 µs a call in Node for its thread-pool hop,
 * which on the hot path is more than the hashing itself (~4 µs for an envelope).
 */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** The FR-19 fingerprint: SHA-256 of an envelope's RFC 8785 canonical form. */
export const fingerprint = (envelope: object): string => sha256Hex(canonicalJson(envelope));
