import { CliError } from './command.js';

export interface Reply<T = unknown> {
  status: number;
  body: T;
}

/**
 * The few HTTP calls the CLI makes. Any error answer becomes a CliError whose one line is the
 * SPEC's error body: `<code>: <message> (HTTP <status>, request <id>)`.
 */
/** The most agents GET /v1/agents returns at once. */
const AGENTS_PAGE = 200;

export class RelayClient {
  readonly url: string;

  constructor(
    url: string,
    readonly apiKey: string | undefined,
  ) {
    if (!/^https?:\/\//.test(url))
      throw new CliError(`--url must start with http:// or https://, got ${url}`, 2);
    this.url = url.replace(/\/+$/, '');
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...extra };
  }

  async call<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<Reply<T>> {
    const headers = this.headers(options.headers);
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(`cannot reach the relay at ${this.url}: ${why}`);
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: kept as text for the error line below.
    }
    if (response.status >= 400) throw new CliError(describeError(response.status, body));
    return { status: response.status, body: body as T };
  }

  /** Every agent the caller may see, following `next_cursor` to the last page. */
  async agents<T extends { agent_id: string }>(): Promise<T[]> {
    const agents: T[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const { body } = await this.call<{ agents: T[]; next_cursor: string | null }>(
        'GET',
        `/v1/agents?limit=${AGENTS_PAGE}${query}`,
      );
      agents.push(...body.agents);
      cursor = body.next_cursor;
    } while (cursor);
    return agents;
  }
}

/** One line from an error answer, whatever its shape. */
export function describeError(status: number, body: unknown): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const requestId = (body as { request_id?: unknown } | null)?.request_id;
  const where = `HTTP ${status}${typeof requestId === 'string' ? `, request ${requestId}` : ''}`;
  if (error && typeof error.code === 'string') {
    return `${error.code}: ${String(error.message ?? '')} (${where})`;
  }
  const text = typeof body === 'string' ? body.slice(0, 200) : body === null ? '' : JSON.stringify(body);
  const hint = status === 401 ? ' (check --api-key or ADMP_API_KEY)' : '';
  return `the relay answered ${where}${text ? `: ${text}` : ' with no body'}${hint}`;
}
