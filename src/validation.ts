import type { Hook } from '@hono/zod-openapi';
import type { z } from 'zod';
import type { AppEnv } from './app-env.js';
import { ERROR_STATUS, type ErrorCode, RelayError } from './errors.js';

const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && code in ERROR_STATUS;

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : 'request';
  if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.join(', ')}`;
  return `${where}: ${issue.message}`;
}

/**
 * The one validation hook: every failed request schema becomes a 422 `validation_failed` naming
 * each bad field, unless an issue carries a more specific code of its own (413, ttl_too_long).
 */
// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route's schema
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) throw validationError(result.error.issues);
};

/** The error a failed schema becomes, for a whole request or for one item of a batch. */
export function validationError(issues: z.core.$ZodIssue[]): RelayError {
  for (const issue of issues) {
    if (issue.code === 'custom' && isErrorCode(issue.params?.code))
      return new RelayError(issue.params.code, issue.message);
  }
  return new RelayError('validation_failed', issues.slice(0, 10).map(describeIssue).join('; '));
}
