import type { FailureReason } from '../auth/failure.js';

/** Why a delivery attempt failed: a NACK, a lease that ran out, or a TTL that passed first. */
export type DeliveryFailure = 'nacked' | 'lease_expired' | 'ttl_expired';
/** Why a message went to the dead letters (FR-21). */
export type DeadReason = 'max_attempts' | 'ttl_expired';
/** Why a policy refused a message: its action, its size limit or its hourly rate. */
export type DenialReason = 'denied' | 'too_large' | 'rate_limited';

/** An inbox's depth in one state, read from the database when /metrics is scraped. */
export interface InboxGauge {
  agentId: string;
  status: 'delivered' | 'leased' | 'dead';
  count: number;
  oldestAgeSec: number;
}

/**
 * The relay's counters and histograms (FR-37), fed by src/observe/events.ts. Entries choose the
 * implementation: prom-client on Node, none on Workers (isolates are short-lived and many, so
 * per-isolate counters would mislead).
 */
export interface Metrics {
  readonly enabled: boolean;
  sent(type: string, from: string, to: string): void;
  received(agentId: string): void;
  /** `leaseSec` from lease to ack; `deliverySec` from the SEND's commit to the ack. */
  acked(agentId: string, leaseSec: number | null, deliverySec: number | null): void;
  nacked(agentId: string): void;
  dead(agentId: string, reason: DeadReason): void;
  /** A dead letter of `agentId`'s inbox was sent back to it. */
  redriven(agentId: string): void;
  /** A message to `agentId` was cancelled by its sender. */
  cancelled(agentId: string): void;
  deliveryFailed(reason: DeliveryFailure): void;
  policyDenied(policyName: string, reason: DenialReason): void;
  authFailed(reason: FailureReason): void;
  requestFinished(operation: string, status: number, seconds: number): void;
  /** The Prometheus text exposition, with the inbox gauges as of now. */
  render(inboxes: readonly InboxGauge[]): Promise<string>;
}

const ignore = () => {};

export const noMetrics: Metrics = {
  enabled: false,
  sent: ignore,
  received: ignore,
  acked: ignore,
  nacked: ignore,
  dead: ignore,
  redriven: ignore,
  cancelled: ignore,
  deliveryFailed: ignore,
  policyDenied: ignore,
  authFailed: ignore,
  requestFinished: ignore,
  render: async () => '',
};
