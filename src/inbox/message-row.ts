import { isoOrNull } from '../db/database.js';
import type { MessageType } from '../envelope.js';
import type { MessageState } from '../message-states.js';

/** The columns a delivery carries, selected the same way by PULL and by realtime pushes. */
export const DELIVERY_COLUMNS =
  'm.id, m.version, m.type, m.from_agent_id, m.to_agent_id, m.subject, m.correlation_id, m.headers, m.body, ' +
  'm.timestamp, m.ttl_sec, m.signature, m.status, m.attempts, m.lease_until, m.lease_id';

export interface DeliveryRow {
  id: string;
  version: string;
  type: MessageType;
  from_agent_id: string;
  to_agent_id: string;
  subject: string;
  correlation_id: string | null;
  headers: Record<string, unknown> | null;
  body: Record<string, unknown>;
  timestamp: string;
  ttl_sec: number;
  signature: { alg: 'ed25519'; kid: string; sig: string } | null;
  status: MessageState;
  attempts: number;
  lease_until: Date | string | null;
  lease_id: string | null;
}

/** The envelope's fields as they were sent, with `from` and `to` as agent URIs. */
function renderEnvelope(row: DeliveryRow) {
  return {
    version: row.version,
    id: row.id,
    type: row.type,
    from: `agent://${row.from_agent_id}`,
    to: `agent://${row.to_agent_id}`,
    subject: row.subject,
    ...(row.correlation_id === null ? {} : { correlation_id: row.correlation_id }),
    ...(row.headers === null ? {} : { headers: row.headers }),
    body: row.body,
    timestamp: row.timestamp,
    ttl_sec: row.ttl_sec,
    ...(row.signature === null ? {} : { signature: row.signature }),
  };
}

/** A leased message as PULL returns it: the envelope's fields at top level plus the lease. */
export function renderDelivery(row: DeliveryRow) {
  return {
    ...renderEnvelope(row),
    status: 'leased' as const,
    lease_until: isoOrNull(row.lease_until) as string,
    lease_id: row.lease_id as string,
    attempts: row.attempts,
  };
}

export type Delivery = ReturnType<typeof renderDelivery>;

/** What a listing adds to the delivery columns: the message's life so far. */
export const LISTED_COLUMNS = `${DELIVERY_COLUMNS}, m.seq, m.created_at, m.available_at, m.acked_at, m.finished_at, m.last_error`;

export interface ListedRow extends DeliveryRow {
  seq: string | number;
  created_at: Date | string;
  available_at: Date | string;
  acked_at: Date | string | null;
  finished_at: Date | string | null;
  last_error: string | null;
}

/** A message as browsing shows it: the envelope's fields plus its state, never a lease id. */
export function renderListed(row: ListedRow) {
  return {
    ...renderEnvelope(row),
    status: row.status,
    attempts: row.attempts,
    created_at: isoOrNull(row.created_at) as string,
    available_at: isoOrNull(row.available_at) as string,
    lease_until: isoOrNull(row.lease_until),
    acked_at: isoOrNull(row.acked_at),
    last_error: row.last_error,
  };
}

export type ListedMessage = ReturnType<typeof renderListed>;
