export { hmacSignature, type JwtSource } from './auth.js';
export type * from './browse-types.js';
export { canonicalJson } from './canonical-json.js';
export { ADMPClient, type ClientOptions } from './client.js';
export type { MessageHandler, SubscribeOptions, Subscription } from './consumer.js';
export {
  APIConnectionError,
  APIError,
  AuthenticationError,
  ConflictError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  TimeoutError,
  ValidationError,
} from './errors.js';
export { deriveIdempotencyKey, newIdempotencyKey } from './idempotency.js';
export type { MessagesOptions } from './messages.js';
export {
  importSigningKey,
  publicKeyOf,
  type SigningKeyInput,
  signatureBaseString,
  signEnvelope,
  verifyEnvelope,
} from './signing.js';
export type * from './types.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
