import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';

/**
 * The server half of Neon's SQL-over-HTTP protocol, as @neondatabase/serverless speaks it: the
 * connection string rides in a header, the statement and its text parameters in the body, and
 * the answer carries every value as PostgreSQL's text so the client parses types itself.
 * Single statements only; the relay sends nothing else this way.
 */
const pools = new Map<string, pg.Pool>();

// Every value stays PostgreSQL's text, as Neon sends it with Neon-Raw-Text-Output.
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export async function answerSqlOverHttp(
  req: IncomingMessage,
  body: string,
  allowed: (host: string, port: number) => boolean,
  res: ServerResponse,
): Promise<void> {
  const connectionString = String(req.headers['neon-connection-string'] ?? '');
  const url = URL.canParse(connectionString) ? new URL(connectionString) : undefined;
  if (!url || !allowed(url.hostname, Number(url.port || 5432))) {
    return send(res, 400, { message: 'Neon-Connection-String names a server this proxy does not reach' });
  }
  const request = JSON.parse(body) as { query?: string; params?: unknown[]; queries?: unknown[] };
  if (request.queries || typeof request.query !== 'string') {
    return send(res, 400, { message: 'this proxy answers single statements, not batches' });
  }
  let pool = pools.get(connectionString);
  if (!pool) {
    pool = new pg.Pool({ connectionString, max: 10 });
    pool.on('error', () => {});
    pools.set(connectionString, pool);
  }
  try {
    const result = await pool.query({
      text: request.query,
      values: request.params ?? [],
      rowMode: 'array',
      types: RAW_TEXT,
    });
    send(res, 200, {
      command: result.command,
      rowCount: result.rowCount,
      rows: result.rows,
      fields: result.fields,
      rowAsArray: true,
    });
  } catch (error) {
    // A database error is a 400 whose fields the driver copies onto its own error (code, detail, …).
    const { message, ...fields } = error as pg.DatabaseError;
    send(res, 400, { ...fields, message });
  }
}

export async function closeSqlPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.end()));
}

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
