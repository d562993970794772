/**
 * RFC 8785 (JSON Canonicalization Scheme), the form the Ed25519 base string hashes.
 *
 * JCS defines numbers and strings exactly as ECMAScript's JSON.stringify writes them, and orders
 * keys by UTF-16 code units, which is what JavaScript's default string sort compares; so the
 * whole scheme is a sorted walk that leaves the leaves to JSON.stringify. The cross-language
 * vectors in spec/test-vectors/canonical-json.json pin it down.
 *
 * @example
 * canonicalJson({ b: 2, a: [1.50, 'é'] }); // '{"a":[1.5,"é"],"b":2}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonical JSON has no representation for NaN or Infinity');
    }
    if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
      throw new TypeError(`canonical JSON cannot represent a ${typeof value}`);
    }
    return JSON.stringify(value) ?? 'null';
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return canonicalJson(withJson.toJSON());
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const entries = Object.keys(value)
    .sort()
    .filter((key) => {
      const item = (value as Record<string, unknown>)[key];
      return item !== undefined && typeof item !== 'function' && typeof item !== 'symbol';
    })
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}
