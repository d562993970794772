// One error family, named as in the Python SDK (DESIGN.md item 9), so code and docs translate 1:1.

/** The parts of an error the relay or the SDK knows. */
export interface APIErrorInit {
  /** HTTP status; absent when no response arrived. */
  status?: number;
  /** The relay's snake_case code (`validation_failed`, `rate_limited`, …) or the SDK's own. */
  code: string;
  message: string;
  /** The relay's request id, when it sent one: quote it in a bug report. */
  requestId?: string;
  /** The parsed response body, as the relay sent it. */
  body?: unknown;
  cause?: unknown;
}

/**
 * Every error the client throws for a failed request. `status`, `code` and `message` come from the
 * relay's error body `{"error": {"code", "message"}}`.
 *
 * @example
 * try {
 *   await client.send({ to: 'billing', type: 'event', subject: 'x', body: {} });
 * } catch (err) {
 *   if (err instanceof APIError) console.error(err.status, err.code, err.message);
 * }
 */
export class APIError extends Error {
  /** HTTP status, or undefined for connection errors and timeouts. */
  readonly status: number | undefined;
  /** Machine-readable code, e.g. `not_found`. */
  readonly code: string;
  /** The relay's `request_id` or `X-Request-Id`, when present. */
  readonly requestId: string | undefined;
  /** The response body as parsed JSON (or text), when there was one. */
  readonly body: unknown;

  constructor(init: APIErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.body = init.body;
  }

  /** What `JSON.stringify` shows of it (an Error's own fields are not enumerable). */
  toJSON(): { name: string; status: number | undefined; code: string; message: string; requestId?: string } {
    return {
      name: this.name,
      status: this.status,
      code: this.code,
      message: this.message,
      ...(this.requestId === undefined ? {} : { requestId: this.requestId }),
    };
  }
}

/**
 * 401: the credential is missing, malformed, unknown, expired or a replayed HMAC signature.
 *
 * @example
 * if (err instanceof AuthenticationError) rotateCredentials();
 */
export class AuthenticationError extends APIError {}

/**
 * 403: authenticated but not allowed (`forbidden`, `sender_mismatch`, `policy_denied`, `invalid_signature`).
 *
 * @example
 * if (err instanceof PermissionDeniedError && err.code === 'policy_denied') alertOperator(err.message);
 */
export class PermissionDeniedError extends APIError {}

/**
 * 404: no such agent or message, or (for ACK, NACK, REPLY) the lease is not yours any more.
 *
 * @example
 * try { await client.ack(msg); } catch (err) { if (err instanceof NotFoundError) console.warn('lease lost'); }
 */
export class NotFoundError extends APIError {}

/**
 * 409: `id_conflict`, the same envelope id was sent before with different content.
 *
 * @example
 * if (err instanceof ConflictError) console.error('envelope id reused:', err.message);
 */
export class ConflictError extends APIError {}

/**
 * 429: over the key's tier limit or a policy's rate limit. The client already retried, honouring
 * `Retry-After`; `retryAfterMs` says how long the relay asked to wait the last time.
 *
 * @example
 * if (err instanceof RateLimitError) await new Promise((r) => setTimeout(r, err.retryAfterMs ?? 1000));
 */
export class RateLimitError extends APIError {
  /** The relay's `Retry-After`, in milliseconds, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: APIErrorInit & { retryAfterMs?: number }) {
    super(init);
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * 400, 413, 415 and 422: the request itself is wrong (`invalid_json`, `validation_failed`,
 * `payload_too_large`, `ttl_too_long`, `timestamp_window_exceeded`); retrying will not help.
 *
 * @example
 * if (err instanceof ValidationError) console.error('bad envelope:', err.message);
 */
export class ValidationError extends APIError {}

/**
 * No response: DNS, refused connection, reset, TLS. Thrown after the retries ran out.
 *
 * @example
 * if (err instanceof APIConnectionError) console.error('relay unreachable:', err.cause);
 */
export class APIConnectionError extends APIError {}

/**
 * A request took longer than `timeoutMs` (after retries), or `waitForReply` saw no reply in time.
 *
 * @example
 * try { await client.waitForReply(id, { timeoutMs: 5000 }); } catch (err) { if (err instanceof TimeoutError) retryLater(); }
 */
export class TimeoutError extends APIError {}

/** Status → class, once. Statuses not listed (5xx, 408, …) are plain APIError. */
export function errorFor(init: APIErrorInit & { retryAfterMs?: number }): APIError {
  switch (init.status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return new ValidationError(init);
    case 401:
      return new AuthenticationError(init);
    case 403:
      return new PermissionDeniedError(init);
    case 404:
      return new NotFoundError(init);
    case 409:
      return new ConflictError(init);
    case 429:
      return new RateLimitError(init);
    default:
      return new APIError(init);
  }
}

// A batch item's error carries only the relay's code; its status is the one the single operation
// would have answered with (SPEC: Errors), so the item's error is the class that operation throws.
const STATUS_OF_CODE: Record<string, number> = {
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  sender_mismatch: 403,
  policy_denied: 403,
  invalid_signature: 403,
  not_found: 404,
  id_conflict: 409,
  invalid_state: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  ttl_too_long: 422,
  timestamp_window_exceeded: 422,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
};

/** The error of one failed item of a batch, as the class its single operation would have thrown. */
export function itemError(error: { code?: unknown; message?: unknown; status?: unknown }): APIError {
  const code = typeof error.code === 'string' ? error.code : 'item_failed';
  const status = typeof error.status === 'number' ? error.status : STATUS_OF_CODE[code];
  return errorFor({
    ...(status === undefined ? {} : { status }),
    code,
    message: typeof error.message === 'string' ? error.message : code,
    body: { error },
  });
}
