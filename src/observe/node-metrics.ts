import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { FAILURE_REASONS } from '../auth/failure.js';
import type { InboxGauge, Metrics } from './metrics.js';
import { SeriesGuard } from './series-guard.js';

// Request and delivery latencies on one relay span sub-millisecond to minutes.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const LEASE_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 900, 3600];

/** FR-37's metrics in a registry of their own, plus the process' default ones (CPU, memory, GC). */
export function createNodeMetrics(options: { maxSeries: number; processMetrics?: boolean }): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const guard = () => new SeriesGuard(options.maxSeries);
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });

  const sent = counter('admp_messages_sent_total', 'Messages stored by SEND, REPLY and broadcast', [
    'type',
    'from',
    'to',
  ]);
  const received = counter('admp_messages_received_total', 'Messages leased to their recipient', [
    'agent_id',
  ]);
  const acked = counter('admp_messages_acked_total', 'Messages acknowledged', ['agent_id']);
  const nacked = counter('admp_messages_nacked_total', 'Messages given back by NACK', ['agent_id']);
  const dead = counter('admp_messages_dead_total', 'Messages moved to the dead letters', [
    'agent_id',
    'reason',
  ]);
  const redriven = counter('admp_messages_redriven_total', 'Dead letters sent back to their inbox', [
    'agent_id',
  ]);
  const cancelled = counter('admp_messages_cancelled_total', 'Messages cancelled by their sender', [
    'agent_id',
  ]);
  const failed = counter('admp_delivery_failures_total', 'Delivery attempts that failed', ['reason']);
  const denials = counter('admp_policy_denials_total', 'Messages a policy refused', [
    'policy_name',
    'reason',
  ]);
  const authFailures = counter('admp_auth_failures_total', 'Refused authentications', ['reason']);
  const leaseDuration = new Histogram({
    name: 'admp_lease_duration_seconds',
    help: 'Time a message was held under lease before its ACK',
    labelNames: ['agent_id'],
    buckets: LEASE_BUCKETS,
    registers: [registry],
  });
  const delivery = new Histogram({
    name: 'admp_delivery_duration_seconds',
    help: 'End to end: from the SEND to the ACK',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'admp_request_duration_seconds',
    help: 'HTTP request handling time by operation and status class',
    labelNames: ['operation', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const inboxSize = new Gauge({
    name: 'admp_inbox_size',
    help: 'Messages in an inbox by state (delivered = ready)',
    labelNames: ['agent_id', 'status'],
    registers: [registry],
  });
  const oldest = new Gauge({
    name: 'admp_inbox_oldest_age_seconds',
    help: 'Age of the oldest message in an inbox by state',
    labelNames: ['agent_id', 'status'],
    registers: [registry],
  });
  // Every reason exists from the start, so rate() and alerts work before the first failure.
  for (const reason of FAILURE_REASONS) authFailures.inc({ reason }, 0);
  for (const reason of ['nacked', 'lease_expired', 'ttl_expired']) failed.inc({ reason }, 0);

  const guards = {
    sent: guard(),
    received: guard(),
    acked: guard(),
    nacked: guard(),
    dead: guard(),
    redriven: guard(),
    cancelled: guard(),
    lease: guard(),
    inbox: guard(),
  };
  const agent = (g: SeriesGuard, agent_id: string) => g.admit({ agent_id }, ['agent_id']);

  return {
    enabled: true,
    sent: (type, from, to) => sent.inc(guards.sent.admit({ type, from, to }, ['from', 'to'])),
    received: (agentId) => received.inc(agent(guards.received, agentId)),
    acked: (agentId, leaseSec, deliverySec) => {
      acked.inc(agent(guards.acked, agentId));
      if (leaseSec !== null) leaseDuration.observe(agent(guards.lease, agentId), leaseSec);
      if (deliverySec !== null) delivery.observe(deliverySec);
    },
    nacked: (agentId) => nacked.inc(agent(guards.nacked, agentId)),
    dead: (agentId, reason) => dead.inc(guards.dead.admit({ agent_id: agentId, reason }, ['agent_id'])),
    redriven: (agentId) => redriven.inc(agent(guards.redriven, agentId)),
    cancelled: (agentId) => cancelled.inc(agent(guards.cancelled, agentId)),
    deliveryFailed: (reason) => failed.inc({ reason }),
    policyDenied: (policyName, reason) => denials.inc({ policy_name: policyName, reason }),
    authFailed: (reason) => authFailures.inc({ reason }),
    requestFinished: (operation, status, seconds) =>
      requests.observe({ operation, status: `${Math.floor(status / 100)}xx` }, seconds),
    render: async (inboxes: readonly InboxGauge[]) => {
      // Inboxes past the series limit fold into one `_other` series: its depth is their sum and
      // its age the oldest among them.
      const folded = new Map<
        string,
        { labels: { agent_id: string; status: string }; count: number; age: number }
      >();
      for (const inbox of inboxes) {
        const labels = guards.inbox.admit({ agent_id: inbox.agentId, status: inbox.status }, ['agent_id']);
        const key = `${labels.agent_id}\u0000${labels.status}`;
        const seen = folded.get(key) ?? { labels, count: 0, age: 0 };
        seen.count += inbox.count;
        seen.age = Math.max(seen.age, inbox.oldestAgeSec);
        folded.set(key, seen);
      }
      inboxSize.reset();
      oldest.reset();
      for (const { labels, count, age } of folded.values()) {
        inboxSize.set(labels, count);
        oldest.set(labels, age);
      }
      return registry.metrics();
    },
  };
}
