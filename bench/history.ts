import pg from 'pg';

/**
 * Fills the relay's message table with `count` acked messages, spread round-robin over
 * `agentIds` (the bench's own inboxes: the worst case for the ready query), in one statement,
 * then analyzes the table as autovacuum would. Their subject is `history`, so a bench can empty
 * the table of its own messages and keep these. Resolves to the seconds it took.
 */
export async function seedHistory(databaseUrl: string, agentIds: readonly string[], count: number) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  try {
    await client.query(
      `insert into message (id, to_agent_id, from_agent_id, type, subject, body, timestamp, ttl_sec, expires_at,
         fingerprint, status, max_attempts, acked_at, finished_at)
       select gen_random_uuid()::text, a.id, a.id, 'task.request', 'history', '{"n":1}', now()::text, 86400,
         now() + interval '1 day', md5(g::text), 'acked', 3, now(), now()
       from generate_series(1, $2::int) g
       cross join lateral (select ($1::text[])[1 + g % cardinality($1::text[])] as id) a`,
      [agentIds, count],
    );
    await client.query('vacuum analyze message');
  } finally {
    await client.end();
  }
  return (Date.now() - started) / 1000;
}
