import { RelayError } from '../errors.js';

/**
 * A keyset cursor: the sort key of the last row a page returned, as opaque base64url text. The
 * next page starts after it through the listing's index, however deep the caller pages.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return btoa(JSON.stringify(key)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The key a cursor holds, checked against the listing's shape; 422 for anything else. */
export function decodeCursor<T extends readonly unknown[]>(
  cursor: string,
  isKey: (key: unknown) => key is T,
): T {
  let key: unknown;
  try {
    key = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    key = undefined;
  }
  if (!isKey(key)) throw new RelayError('validation_failed', 'cursor: not a cursor this listing gave out');
  return key;
}

/** One page of a listing, and where the next begins (null at the end). */
export interface Page<T> {
  messages: T[];
  next_cursor: string | null;
}

/**
 * A page from rows fetched one past `limit`: the extra row is not shown, it only says that more
 * follow, so the last page never ends with a cursor to an empty one.
 */
export function toPage<R, T>(
  found: readonly R[],
  limit: number,
  render: (row: R) => T,
  keyOf: (row: R) => readonly (string | number)[],
): Page<T> {
  const shown = found.slice(0, limit);
  const last = shown.at(-1);
  return {
    messages: shown.map(render),
    next_cursor: found.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
