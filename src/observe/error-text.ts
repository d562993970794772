import { DrizzleQueryError } from 'drizzle-orm';

/** Long enough for a driver's message and its code, short enough that a log line stays a line. */
const MAX_LENGTH = 500;

/**
 * An error as one bounded log field. Drizzle's query errors carry the whole statement and every
 * parameter in their message (a batch of audit rows or envelopes: message bodies, 100 KB and
 * more), so what is logged is the driver's own error beneath, with its SQLSTATE when it has one.
 */
export function errorText(error: unknown): string {
  let cause = error;
  while (cause instanceof DrizzleQueryError) cause = cause.cause ?? 'query failed';
  const code = (cause as { code?: unknown } | null)?.code;
  const text =
    cause instanceof Error
      ? `${cause.name}: ${cause.message}${typeof code === 'string' ? ` (${code})` : ''}`
      : String(cause);
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}… (${text.length} characters)` : text;
}

/** `errorText` with the stack frames, for errors nobody expected (each is a bug to find). */
export function errorTrace(error: unknown): string {
  const stack = error instanceof Error ? error.stack : undefined;
  const frames = stack?.split('\n').filter((line) => line.trimStart().startsWith('at ')) ?? [];
  return [errorText(error), ...frames.slice(0, 20)].join('\n');
}
