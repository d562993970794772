import { isoOrNull } from '../db/database.js';
import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import { observe } from '../observe/events.js';
import { decodeCursor, type Page, toPage } from './cursor.js';
import { LISTED_COLUMNS, type ListedRow, renderListed } from './message-row.js';
import type { Origin } from './operation.js';

// Served by message_dead_idx (to_agent_id, finished_at, id): the row comparison is its index
// condition, so a page costs the same however many dead letters or finished messages lie before it.
// The cursor carries finished_at as PostgreSQL's text, which keeps its microseconds.
export const LIST_DEAD_LETTERS = statement(
  'admp_dead_letters',
  `select ${LISTED_COLUMNS}, m.finished_at::text as died_key
   from message m
   where m.to_agent_id = $1 and m.status = 'dead' and (m.finished_at, m.id) > ($2::timestamptz, $3::text)
   order by m.finished_at, m.id
   limit $4`,
  { durable: false },
);

/** A first page starts before every dead letter. */
const START: DeadKey = ['-infinity', ''];
type DeadKey = [string, string];
const isDeadKey = (key: unknown): key is DeadKey =>
  Array.isArray(key) && key.length === 2 && key.every((part) => typeof part === 'string');

export type DeadLetter = Omit<ReturnType<typeof renderListed>, 'status'> & {
  status: 'dead';
  died_at: string;
};

/** An inbox's dead letters, oldest death first. */
export async function listDeadLetters(
  deps: Deps,
  agentId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<DeadLetter>> {
  const [diedAfter, idAfter] = page.cursor ? decodeCursor(page.cursor, isDeadKey) : START;
  const found = await deps.run<ListedRow & { died_key: string }>(LIST_DEAD_LETTERS, [
    agentId,
    diedAfter,
    idAfter,
    page.limit + 1,
  ]);
  const render = (row: ListedRow) => ({
    ...renderListed(row),
    status: 'dead' as const,
    died_at: isoOrNull(row.finished_at) as string,
  });
  return toPage(found, page.limit, render, (row) => [row.died_key, row.id]);
}

// Back to the inbox as if just sent: attempts start over and the TTL runs again from now. Its
// last_error stays, so STATUS still says why it died the last time.
const REDRIVE = statement(
  'admp_redrive',
  `update message m set status = 'delivered', attempts = 0, available_at = now(),
     expires_at = now() + make_interval(secs => m.ttl_sec), finished_at = null, lease_id = null, lease_until = null
   where m.to_agent_id = $1 and m.status = 'dead' and ($2::text[] is null or m.id = any($2::text[]))
   returning m.id, m.last_error`,
  { durable: true },
);

export interface RedriveRequest extends Origin {
  agentId: string;
  /** These dead letters (others are skipped), or every one of the inbox when null. */
  messageIds: string[] | null;
}

/** Sends dead letters back to their inbox; answers how many went. */
export async function redrive(deps: Deps, request: RedriveRequest): Promise<number> {
  const { agentId } = request;
  const ids = request.messageIds?.map((id) => id.toLowerCase()) ?? null;
  const redriven = await deps.run<{ id: string; last_error: string | null }>(REDRIVE, [agentId, ids]);
  if (redriven.length > 0) deps.hub.notify(agentId);
  for (const row of redriven) {
    observe(
      deps,
      { kind: 'message.redriven', agentId, messageId: row.id, lastError: row.last_error },
      request.requestId,
    );
  }
  return redriven.length;
}

const PURGE = statement(
  'admp_purge_dead',
  `delete from message where id = $1 and to_agent_id = $2 and status::text = 'dead' returning id`,
  { durable: true },
);

/** Deletes one dead letter for good; 404 when the inbox has no such dead letter. */
export async function purgeDeadLetter(
  deps: Deps,
  request: Origin & { agentId: string; messageId: string },
): Promise<void> {
  const messageId = request.messageId.toLowerCase();
  const [row] = await deps.run<{ id: string }>(PURGE, [messageId, request.agentId]);
  if (!row) throw notFound(`dead letter ${request.messageId} in ${request.agentId}'s inbox`);
  observe(deps, { kind: 'message.purged', agentId: request.agentId, messageId }, request.requestId);
}
