import type { MessageRef } from './types.js';

const enc = encodeURIComponent;

/** An agent id from `agent://x` or `x`. */
export function bareId(target: string): string {
  return target.startsWith('agent://') ? target.slice('agent://'.length) : target;
}

/** A message or its id; a message brings its lease along. */
export function refOf(ref: MessageRef): { id: string; leaseId?: string } {
  if (typeof ref === 'string') return { id: ref };
  return ref.lease_id === undefined ? { id: ref.id } : { id: ref.id, leaseId: ref.lease_id };
}

/** ACK, NACK and REPLY paths; the lease_id makes a stale holder's settle a 404 (SPEC: Endpoints). */
export function settlePath(
  agentId: string,
  messageId: string,
  action: 'ack' | 'nack' | 'reply',
  leaseId: string | undefined,
  extra?: string,
): string {
  const query = [leaseId === undefined ? undefined : `lease_id=${enc(leaseId)}`, extra]
    .filter(Boolean)
    .join('&');
  return `/v1/agents/${enc(agentId)}/messages/${enc(messageId)}/${action}${query ? `?${query}` : ''}`;
}
