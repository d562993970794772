import { sql } from 'drizzle-orm';
import { type Db, firstRow, isoOrNull, rows } from '../db/database.js';

export interface SessionRow {
  session_id: string;
  expires_at: string;
}

/**
 * A session lives two heartbeat intervals past its last sign of life; an agent with no unexpired
 * session (and so no open WebSocket, which keeps one) is offline. Each statement also moves the
 * agent's `last_seen`, in the same round trip.
 */
const lifetime = (heartbeatSec: number) => sql`now() + make_interval(secs => ${2 * heartbeatSec})`;

export async function openSession(
  db: Db,
  agentId: string,
  heartbeatSec: number,
): Promise<SessionRow | undefined> {
  const row = await firstRow<{ session_id: string; expires_at: Date | string }>(
    db,
    sql`
      with seen as (update agent set last_seen = now() where id = ${agentId} returning id)
      insert into session (id, agent_id, expires_at)
      select gen_random_uuid(), seen.id, ${lifetime(heartbeatSec)} from seen
      returning id as session_id, expires_at`,
  );
  return row && { session_id: row.session_id, expires_at: isoOrNull(row.expires_at) as string };
}

/** Extends an unexpired session; an expired one is gone, and the client must open a new one. */
export async function heartbeatSession(
  db: Db,
  agentId: string,
  sessionId: string,
  heartbeatSec: number,
): Promise<SessionRow | undefined> {
  const row = await firstRow<{ session_id: string; expires_at: Date | string }>(
    db,
    sql`
      with live as (
        update session set expires_at = ${lifetime(heartbeatSec)}
        where id = ${sessionId}::uuid and agent_id = ${agentId} and expires_at > now()
        returning id, agent_id, expires_at
      ), seen as (
        update agent set last_seen = now() where id = (select agent_id from live)
      )
      select id as session_id, expires_at from live`,
  );
  return row && { session_id: row.session_id, expires_at: isoOrNull(row.expires_at) as string };
}

export async function closeSession(db: Db, agentId: string, sessionId: string): Promise<boolean> {
  const row = await firstRow<{ id: string }>(
    db,
    sql`delete from session where id = ${sessionId}::uuid and agent_id = ${agentId} returning id`,
  );
  return row !== undefined;
}

/** Every agent with a live session, the one named excepted, in id order. */
export async function liveAgents(db: Db, except: string): Promise<string[]> {
  const found = await rows<{ agent_id: string }>(
    db,
    sql`select distinct agent_id from session where expires_at > now() and agent_id <> ${except} order by agent_id`,
  );
  return found.map((r) => r.agent_id);
}

/** Drops expired sessions; run with the TTL sweep. */
export async function purgeSessions(db: Db): Promise<number> {
  const gone = await rows<{ id: string }>(db, sql`delete from session where expires_at < now() returning id`);
  return gone.length;
}
