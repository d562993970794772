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
