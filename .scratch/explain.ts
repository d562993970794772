import pg from 'pg';
import { parseConfig } from '../src/config.js';
import { openNodeDatabase } from '../src/db/node-database.js';
import type { Run } from '../src/db/statements.js';
import { createDeps } from '../src/deps.js';
import { ack } from '../src/inbox/ack.js';
import { lease } from '../src/inbox/lease.js';
import { silentLogger } from '../src/observe/logger.js';
import { defaultPolicy } from '../src/policy/load.js';

const url = 'postgres://postgres@127.0.0.1:55432/admp';
const d = await openNodeDatabase({ url });
await d.migrate();
const c = new pg.Client(url);
await c.connect();
const fresh = process.argv[2] === 'fill';
if (fresh) {
  await c.query(`insert into agent (id, hmac_secret) values ('a','x'),('b','x') on conflict do nothing`);
  await c.query(`insert into message (id, to_agent_id, from_agent_id, type, subject, body, timestamp, ttl_sec, expires_at, fingerprint, max_attempts, status, finished_at, acked_at)
    select gen_random_uuid()::text, 'b', 'a', 'task.request', 's', '{}', now()::text, 86400, now() + interval '1 day', md5(g::text), 3, 'acked', now(), now() from generate_series(1, 200000) g`);
  await c.query(`insert into message (id, to_agent_id, from_agent_id, type, subject, body, timestamp, ttl_sec, expires_at, fingerprint, max_attempts)
    select gen_random_uuid()::text, 'b', 'a', 'task.request', 's', '{}', now()::text, 86400, now() + interval '1 day', md5(g::text), 3 from generate_series(1, 2000) g`);
  await c.query('vacuum analyze message');
}
let explain = false;
const run: Run = async (s, values) => {
  if (explain) {
    const r = await c.query(`explain (analyze, buffers) ${s.text}`, values as unknown[]);
    console.log(`--- ${s.name}\n${r.rows.map((x) => x['QUERY PLAN']).join('\n')}`);
  }
  return (await c.query(s.text, values as unknown[])).rows;
};
const deps = createDeps({
  config: parseConfig({ NODE_ENV: 'test', API_KEY: 'x'.repeat(24) }),
  db: d.db,
  run,
  logger: silentLogger,
  policy: defaultPolicy(),
});
explain = true;
const [m] = await lease(deps, { agentId: 'b', visibilityTimeoutSec: 30, max: 1, via: 'pull' });
explain = false;
const [m2] = await lease(deps, { agentId: 'b', visibilityTimeoutSec: 30, max: 1, via: 'pull' });
explain = true;
await ack(deps, { agentId: 'b', messageId: (m2 as any).id, leaseId: (m2 as any).lease_id, via: 'ack' }).catch(() => {});
process.exit(0);
