import { type ErrorCode, RelayError } from '../errors.js';

/**
 * Why a request was refused: the `reason` of its audit row and the label of its counter. A closed
 * set, so dashboards and alerts can rely on it.
 */
const REASON_CODES = {
  missing_credentials: 'unauthorized',
  malformed_credentials: 'unauthorized',
  unknown_api_key: 'unauthorized',
  unknown_agent: 'unauthorized',
  stale_timestamp: 'unauthorized',
  bad_hmac: 'unauthorized',
  replayed_request: 'unauthorized',
  invalid_jwt: 'unauthorized',
  expired_jwt: 'unauthorized',
  forbidden: 'forbidden',
  missing_permission: 'forbidden',
  sender_mismatch: 'sender_mismatch',
  unsigned_envelope: 'invalid_signature',
  unknown_signing_key: 'invalid_signature',
  bad_envelope_signature: 'invalid_signature',
} as const satisfies Record<string, ErrorCode>;

export type FailureReason = keyof typeof REASON_CODES;
export const FAILURE_REASONS = Object.keys(REASON_CODES) as FailureReason[];

/** A refused authentication or authorization; the middleware audits and counts every one. */
export class AuthFailure extends RelayError {
  constructor(
    readonly reason: FailureReason,
    message: string,
    /** The agent the caller claimed to be, when it named a well-formed one. */
    readonly claimedAgent?: string,
  ) {
    super(REASON_CODES[reason], message);
  }
}
