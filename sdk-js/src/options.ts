import type { JwtSource } from './auth.js';
import type { SigningKeyInput } from './signing.js';
import type { WebSocketConstructor } from './websocket.js';

/** Options of `new ADMPClient(…)`. Pass at most one of `apiKey`, `hmacSecret` and `jwt`. */
export interface ClientOptions {
  /** The relay's base URL, e.g. `http://localhost:3030`. */
  relayUrl: string;
  /** This agent's id (`billing.api`); `from` of everything it sends, owner of the inbox it pulls. */
  agentId: string;
  /** `admp_…` key from registration: sent as `Authorization: Bearer`. */
  apiKey?: string;
  /** `hmac_secret` from registration: every request is signed, with a fresh nonce. */
  hmacSecret?: string;
  /** A JWT whose `sub` is `agentId`, or a function returning a current one before each request. */
  jwt?: JwtSource;
  /** Ed25519 seed (hex, base64, bytes) or CryptoKey: every sent envelope is signed with it. */
  signingKey?: SigningKeyInput;
  /** The `kid` the relay knows the signing key's public half by; required with `signingKey`. */
  kid?: string;
  /** Retries after a network error, timeout, 408, 429 or 5xx (default 3). */
  retries?: number;
  /** Per-attempt request timeout in milliseconds (default 30000; a long poll adds its wait). */
  timeoutMs?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** A WebSocket constructor for `subscribe()` (default: the global one, else the `ws` package). */
  WebSocket?: WebSocketConstructor;
}
