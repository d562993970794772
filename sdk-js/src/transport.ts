import { authorize, type Credentials } from './auth.js';
import { APIConnectionError, APIError, errorFor, TimeoutError } from './errors.js';
import { backoffMs, isRetryableStatus, parseRetryAfter, sleep } from './retry.js';

export interface TransportOptions {
  relayUrl: string;
  credentials: Credentials;
  retries: number;
  timeoutMs: number;
  fetch: typeof fetch;
}

export interface RequestOptions {
  /** Serialized as JSON once; every attempt sends the same bytes. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Extra time on top of `timeoutMs`, for a long poll that is meant to wait. */
  extraTimeoutMs?: number;
  /** Aborts the request (and its retries) without a retry: the caller gave up. */
  signal?: AbortSignal;
}

/** An answer with a body; null for 204. */
export type Answer<T> = { status: number; body: T | null };

/** HTTP with the SDK's credentials, timeouts, retries and error classes. */
export class Transport {
  readonly #o: TransportOptions;
  readonly #base: string;

  constructor(options: TransportOptions) {
    this.#o = options;
    this.#base = options.relayUrl.replace(/\/+$/, '');
  }

  get baseUrl(): string {
    return this.#base;
  }

  async request<T>(method: string, pathWithQuery: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const body = options.body === undefined ? '' : JSON.stringify(options.body);
    for (let attempt = 0; ; attempt++) {
      let failure: APIError;
      let retryAfterMs: number | undefined;
      try {
        const response = await this.#attempt(method, pathWithQuery, body, options);
        if (response.ok) return { status: response.status, body: await readBody<T>(response) };
        failure = await toError(response);
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        if (!isRetryableStatus(response.status)) throw failure;
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        failure = error instanceof APIError ? error : connectionError(error);
        if (failure.status !== undefined && !isRetryableStatus(failure.status)) throw failure;
      }
      if (attempt >= this.#o.retries) throw failure;
      await sleep(retryAfterMs ?? backoffMs(attempt), options.signal);
    }
  }

  async #attempt(method: string, pathWithQuery: string, body: string, options: RequestOptions) {
    const signed = await authorize(this.#o.credentials, method, pathWithQuery, body, Date.now());
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...options.headers,
      ...signed.headers,
    };
    if (body !== '') headers['content-type'] = 'application/json';
    const timeoutMs = this.#o.timeoutMs + (options.extraTimeoutMs ?? 0);
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await this.#o.fetch(`${this.#base}${signed.pathWithQuery}`, {
        method,
        headers,
        body: body === '' ? undefined : body,
        signal: options.signal ? anySignal([options.signal, timeout]) : timeout,
      });
    } catch (error) {
      if (timeout.aborted && !options.signal?.aborted) {
        throw new TimeoutError({
          code: 'timeout',
          message: `no answer within ${timeoutMs} ms`,
          cause: error,
        });
      }
      throw error;
    }
  }
}

function connectionError(cause: unknown): APIConnectionError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new APIConnectionError({
    code: 'connection_error',
    message: `could not reach the relay: ${detail}`,
    cause,
  });
}

async function readBody<T>(response: Response): Promise<T | null> {
  const text = await response.text();
  if (response.status === 204 || text === '') return null;
  return JSON.parse(text) as T;
}

/** The relay's `{"error": {"code", "message"}}`, or a description of whatever came instead. */
async function toError(response: Response): Promise<APIError> {
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const requestId =
    (body as { request_id?: string } | null)?.request_id ?? response.headers.get('x-request-id') ?? undefined;
  return errorFor({
    status: response.status,
    code: typeof error?.code === 'string' ? error.code : `http_${response.status}`,
    message:
      typeof error?.message === 'string' ? error.message : `HTTP ${response.status} ${response.statusText}`,
    requestId,
    body,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}

/** AbortSignal.any where the runtime lacks it (older browsers). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const native = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (native) return native(signals);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) return AbortSignal.abort(signal.reason);
    signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}
