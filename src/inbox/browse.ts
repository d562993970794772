import { statement } from '../db/statements.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import { MESSAGE_STATES, type MessageState } from '../message-states.js';
import { decodeCursor, type Page, toPage } from './cursor.js';
import { LISTED_COLUMNS, type ListedMessage, type ListedRow, renderListed } from './message-row.js';

export type Direction = 'inbox' | 'sent';

// One index scan per state asked for, each backward along (agent, status, seq) from the cursor and
// stopped at the page size, then merged: a page never reads more than states × limit rows, whatever
// the history, and the states are only those asked for (all of them when none is).
const listIn = (direction: Direction) =>
  statement(
    `admp_list_${direction}`,
    `select x.* from unnest($2::text[]) as s(status) cross join lateral (
       select ${LISTED_COLUMNS} from message m
       where m.${direction === 'inbox' ? 'to_agent_id' : 'from_agent_id'} = $1
         and m.status = s.status::message_status and m.seq < $3::bigint
       order by m.seq desc
       limit $4
     ) x
     order by x.seq desc
     limit $4`,
    { durable: false },
  );

export const LIST_MESSAGES = { inbox: listIn('inbox'), sent: listIn('sent') };

type SeqKey = [string];
const isSeqKey = (key: unknown): key is SeqKey =>
  Array.isArray(key) && key.length === 1 && typeof key[0] === 'string' && /^\d{1,19}$/.test(key[0]);
const START: SeqKey = ['9223372036854775807'];

export interface ListRequest {
  agentId: string;
  direction: Direction;
  status?: MessageState | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** An agent's inbox or sent messages, newest first; reads only, never leases. */
export async function listMessages(deps: Deps, request: ListRequest): Promise<Page<ListedMessage>> {
  const [before] = request.cursor ? decodeCursor(request.cursor, isSeqKey) : START;
  const states = request.status ? [request.status] : [...MESSAGE_STATES];
  const found = await deps.run<ListedRow>(LIST_MESSAGES[request.direction], [
    request.agentId,
    states,
    before,
    request.limit + 1,
  ]);
  return toPage(found, request.limit, renderListed, (row) => [String(row.seq)]);
}

/** A thread is bounded by what one conversation holds, not paged; past this it is cut, oldest kept. */
export const MAX_THREAD = 1000;

// The primary key finds the first message, message_correlation_idx the rest.
export const THREAD = statement(
  'admp_thread',
  `select ${LISTED_COLUMNS} from message m
   where (m.id = lower($1) or m.correlation_id = $1)
     and ($2::text is null or m.from_agent_id = $2 or m.to_agent_id = $2)
   order by m.seq
   limit ${MAX_THREAD}`,
  { durable: false },
);

/**
 * The message whose id is `correlationId` and every message carrying it, oldest first, limited to
 * those `party` sent or received (null: the admin, all). 404 when the caller sees none of them.
 */
export async function thread(
  deps: Deps,
  correlationId: string,
  party: string | null,
): Promise<ListedMessage[]> {
  const found = await deps.run<ListedRow>(THREAD, [correlationId, party]);
  if (found.length === 0) throw notFound(`thread ${correlationId}`);
  return found.map(renderListed);
}
