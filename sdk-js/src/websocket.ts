import { authorize, bearerToken, type Credentials } from './auth.js';

/** The part of the WebSocket API the SDK uses; both the browser's and the `ws` package's fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/**
 * A WebSocket constructor: the standard one (`new WebSocket(url)`) or one that, like the `ws`
 * package, also takes `{ headers }` as its third argument.
 */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

export const OPEN = 1;

interface Resolved {
  WebSocket: WebSocketConstructor;
  /** Whether the constructor sends request headers (the `ws` package does; browsers do not). */
  headers: boolean;
}

// Kept in a variable so bundlers for browsers and Workers do not try to pull `ws` in.
const WS_PACKAGE = 'ws';

/**
 * The constructor to use: the one given, the `ws` package where headers are needed or there is no
 * global WebSocket (Node 20), else the global one.
 */
export async function resolveWebSocket(
  given: WebSocketConstructor | undefined,
  needsHeaders: boolean,
): Promise<Resolved | undefined> {
  if (given) return { WebSocket: given, headers: true };
  const global = (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global && !needsHeaders) return { WebSocket: global, headers: false };
  try {
    const mod = (await import(WS_PACKAGE)) as { default?: unknown; WebSocket?: unknown };
    const ctor = (mod.WebSocket ?? mod.default) as WebSocketConstructor | undefined;
    if (typeof ctor === 'function') return { WebSocket: ctor, headers: true };
  } catch {
    // Not installed: fall through.
  }
  return global && !needsHeaders ? { WebSocket: global, headers: false } : undefined;
}

/**
 * Opens the agent's WebSocket, authenticated by headers where the constructor can send them and
 * by `?token=` where it cannot (browsers). HMAC needs headers.
 */
export async function connectWebSocket(
  resolved: Resolved,
  baseUrl: string,
  agentId: string,
  credentials: Credentials,
  visibilityTimeoutSec: number | undefined,
): Promise<WebSocketLike> {
  const wsBase = baseUrl.replace(/^http/, 'ws');
  const lease = visibilityTimeoutSec === undefined ? '' : `visibility_timeout=${visibilityTimeoutSec}`;
  const path = `/v1/agents/${encodeURIComponent(agentId)}/ws${lease ? `?${lease}` : ''}`;
  if (resolved.headers) {
    const signed = await authorize(credentials, 'GET', path, '', Date.now());
    return new resolved.WebSocket(`${wsBase}${signed.pathWithQuery}`, undefined, { headers: signed.headers });
  }
  const token = await bearerToken(credentials);
  const query = token === undefined ? '' : `${lease ? '&' : '?'}token=${encodeURIComponent(token)}`;
  return new resolved.WebSocket(`${wsBase}${path}${query}`);
}
