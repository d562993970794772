import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The closed set of error codes the relay speaks, each with the HTTP status it always carries. */
export const ERROR_STATUS = {
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  sender_mismatch: 403,
  policy_denied: 403,
  invalid_signature: 403,
  not_found: 404,
  method_not_allowed: 405,
  id_conflict: 409,
  invalid_state: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  validation_failed: 422,
  ttl_too_long: 422,
  timestamp_window_exceeded: 422,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class RelayError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RelayError';
    this.status = ERROR_STATUS[code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
  request_id?: string;
}

export function renderError(code: ErrorCode, message: string, requestId?: string): ErrorBody {
  return requestId ? { error: { code, message }, request_id: requestId } : { error: { code, message } };
}

export const notFound = (what: string) => new RelayError('not_found', `${what} was not found`);
