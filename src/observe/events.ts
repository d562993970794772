import type { FailureReason } from '../auth/failure.js';
import type { Deps } from '../deps.js';
import type { MessageState } from '../message-states.js';
import type { DenialReason } from './metrics.js';

/**
 * Everything the relay tells the outside about a message or a refusal. Each event is written to
 * the three places that watch the relay (a log line for FR-36, counters for FR-37, an audit row
 * for FR-38) by `observe`, the one function that knows all three, so they never disagree.
 */
export type RelayEvent =
  | {
      kind: 'message.sent';
      messageId: string;
      from: string;
      to: string;
      type: string;
      subject: string;
      correlationId: string | null;
      /** The rule that admitted it; REPLY answers an admitted message and names none. */
      policy: string | null;
      via: 'send' | 'reply' | 'broadcast';
    }
  | {
      kind: 'message.leased';
      agentId: string;
      messageId: string;
      leaseUntil: string;
      attempts: number;
      via: 'pull' | 'push';
    }
  | {
      kind: 'message.acked';
      agentId: string;
      messageId: string;
      leaseSec: number | null;
      deliverySec: number | null;
      via: 'ack' | 'reply' | 'push';
    }
  | {
      kind: 'message.nacked';
      agentId: string;
      messageId: string;
      reason: string;
      status: MessageState;
      attempts: number;
    }
  | { kind: 'lease.extended'; agentId: string; messageId: string; leaseUntil: string }
  | { kind: 'message.redriven'; agentId: string; messageId: string; lastError: string | null }
  | { kind: 'message.purged'; agentId: string; messageId: string }
  | { kind: 'message.cancelled'; agentId: string; messageId: string; from: string }
  | { kind: 'lease.expired'; agentId: string; messageId: string; attempts: number; status: MessageState }
  | { kind: 'ttl.expired'; agentId: string; messageId: string }
  | { kind: 'policy.denied'; from: string; to: string; policyName: string; reason: DenialReason }
  | { kind: 'auth.failure'; agentId: string | null; reason: FailureReason; detail: Record<string, unknown> };

type ObserveDeps = Pick<Deps, 'logger' | 'metrics' | 'audit'> & {
  config: Pick<Deps['config'], 'auditMessages'>;
};

// Without AUDIT_MESSAGES, the audit log keeps who was refused and why, and what operators did by
// hand (rare, and the first thing asked after an incident), not every delivery step.
const ALWAYS_AUDITED = new Set<RelayEvent['kind']>([
  'policy.denied',
  'auth.failure',
  'message.redriven',
  'message.purged',
  'message.cancelled',
]);
const unaudited = { record: () => {} };

/** Logs, counts and audits one event; never waits for the database (audit rows are batched). */
export function observe(deps: ObserveDeps, event: RelayEvent, requestId?: string): void {
  const { logger, metrics } = deps;
  const audit = deps.config.auditMessages || ALWAYS_AUDITED.has(event.kind) ? deps.audit : unaudited;
  const request_id = requestId;
  switch (event.kind) {
    case 'message.sent': {
      const { messageId: message_id, from, to, type, subject, via, policy } = event;
      const correlation_id = event.correlationId ?? undefined;
      logger.info(
        { request_id, message_id, agent_id: from, correlation_id, from, to, subject, type, via },
        'message sent',
      );
      metrics.sent(type, from, to);
      audit.record({
        event: event.kind,
        agentId: from,
        messageId: message_id,
        requestId,
        detail: { from, to, type, via, policy: policy ?? undefined, decision: policy ? 'allow' : undefined },
      });
      return;
    }
    case 'message.leased': {
      const { agentId: agent_id, messageId: message_id, leaseUntil: lease_until, attempts, via } = event;
      logger.info({ request_id, agent_id, message_id, lease_until, attempts, via }, 'message pulled');
      metrics.received(agent_id);
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        requestId,
        detail: { lease_until, attempts, via },
      });
      return;
    }
    case 'message.acked': {
      const { agentId: agent_id, messageId: message_id, via } = event;
      logger.info({ request_id, agent_id, message_id, via }, 'message acked');
      metrics.acked(agent_id, event.leaseSec, event.deliverySec);
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        requestId,
        detail: { via },
      });
      return;
    }
    case 'message.nacked': {
      const { agentId: agent_id, messageId: message_id, reason, status, attempts } = event;
      logger.info({ request_id, agent_id, message_id, reason, status, attempts }, 'message nacked');
      metrics.nacked(agent_id);
      metrics.deliveryFailed('nacked');
      if (status === 'dead') metrics.dead(agent_id, 'max_attempts');
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        requestId,
        detail: { reason, status, attempts },
      });
      return;
    }
    case 'lease.extended': {
      const { agentId: agent_id, messageId: message_id, leaseUntil: lease_until } = event;
      logger.debug({ request_id, agent_id, message_id, lease_until }, 'lease extended');
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        requestId,
        detail: { lease_until },
      });
      return;
    }
    case 'message.redriven': {
      const { agentId: agent_id, messageId: message_id, lastError: last_error } = event;
      logger.info({ request_id, agent_id, message_id, last_error }, 'dead letter redriven');
      metrics.redriven(agent_id);
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        requestId,
        detail: { last_error },
      });
      return;
    }
    case 'message.purged': {
      const { agentId: agent_id, messageId: message_id } = event;
      logger.info({ request_id, agent_id, message_id }, 'dead letter purged');
      audit.record({ event: event.kind, agentId: agent_id, messageId: message_id, requestId, detail: {} });
      return;
    }
    case 'message.cancelled': {
      const { agentId: agent_id, messageId: message_id, from } = event;
      logger.info({ request_id, agent_id, message_id, from }, 'message cancelled');
      metrics.cancelled(agent_id);
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        requestId,
        detail: { from },
      });
      return;
    }
    case 'lease.expired': {
      const { agentId: agent_id, messageId: message_id, attempts, status } = event;
      logger.info({ agent_id, message_id, attempts, status }, 'lease expired');
      metrics.deliveryFailed('lease_expired');
      if (status === 'dead') metrics.dead(agent_id, 'max_attempts');
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        detail: { attempts, status },
      });
      return;
    }
    case 'ttl.expired': {
      const { agentId: agent_id, messageId: message_id } = event;
      logger.info({ agent_id, message_id }, 'TTL expired');
      metrics.deliveryFailed('ttl_expired');
      metrics.dead(agent_id, 'ttl_expired');
      audit.record({
        event: event.kind,
        agentId: agent_id,
        messageId: message_id,
        detail: { status: 'dead' },
      });
      return;
    }
    case 'policy.denied': {
      const { from, to, policyName: policy_name, reason } = event;
      logger.warn({ request_id, agent_id: from, from, to, policy_name, reason }, 'policy denial');
      metrics.policyDenied(policy_name, reason);
      audit.record({
        event: event.kind,
        agentId: from,
        requestId,
        detail: { from, to, policy: policy_name, reason },
      });
      return;
    }
    case 'auth.failure': {
      const { agentId: agent_id, reason } = event;
      logger.warn({ request_id, agent_id: agent_id ?? undefined, reason }, 'authentication failure');
      metrics.authFailed(reason);
      audit.record({ event: event.kind, agentId: agent_id, requestId, detail: { reason, ...event.detail } });
      return;
    }
  }
}
