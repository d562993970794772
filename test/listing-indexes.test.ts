import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Statement } from '../src/db/statements.js';
import { LIST_MESSAGES, THREAD } from '../src/inbox/browse.js';
import { LIST_DEAD_LETTERS } from '../src/inbox/dead-letters.js';
import { LEASE } from '../src/inbox/lease.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { ENGINE } from './support/test-database.js';

// Listings and PULL with a million finished messages in the table: each must be an index scan
// stopped at its page, never a walk of history. The plan is the proof: a timing would only say
// something about this machine. PGlite (single-threaded WebAssembly) takes a tenth of that, enough
// for its planner to prefer the same indexes, in a time a shared machine can spare.
const FINISHED = ENGINE === 'postgres' ? 1_000_000 : 100_000;
const DELAYED = 1000;

let relay: TestRelay;

const execute = async <T>(text: string) => ((await relay.db.execute(text)) as unknown as { rows: T[] }).rows;

beforeAll(async () => {
  relay = await startTestRelay();
  await relay.registerAgent('ix.inbox');
  await relay.registerAgent('ix.sender');
  // One statement: every message of the inbox is finished, one in ten dead, all from ix.sender, all
  // in one conversation, plus a backlog of delayed messages at the head of the inbox.
  await relay.db.execute(`
    insert into message (id, to_agent_id, from_agent_id, type, subject, correlation_id, body, timestamp,
      ttl_sec, expires_at, fingerprint, status, attempts, max_attempts, acked_at, finished_at, last_error, created_at)
    select gen_random_uuid()::text, 'ix.inbox', 'ix.sender', 'event', 'history',
      case when i % 1000 = 0 then 'ix-thread' end, '{}', '2026-01-01T00:00:00Z', 86400, now() - interval '1 day', 'fp',
      case when i % 10 = 0 then 'dead'::message_status else 'acked' end, 1, 3,
      case when i % 10 = 0 then null else now() end, now() - make_interval(secs => ${FINISHED} - i),
      case when i % 10 = 0 then 'Max attempts exceeded' end, now() - interval '1 day'
    from generate_series(1, ${FINISHED}) as i`);
  await relay.db.execute(`
    insert into message (id, to_agent_id, from_agent_id, type, subject, body, timestamp, ttl_sec, expires_at,
      fingerprint, max_attempts, available_at)
    select gen_random_uuid()::text, 'ix.inbox', 'ix.sender', 'event', 'later', '{}', '2026-01-01T00:00:00Z', 86400,
      now() + interval '1 day', 'fp', 3, now() + interval '1 hour'
    from generate_series(1, ${DELAYED})`);
  await relay.db.execute('analyze message');
}, 1_800_000);
afterAll(() => relay?.close());

const literal = (value: unknown): string => {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `'{${value.join(',')}}'`;
  return `'${String(value).replaceAll("'", "''")}'`;
};

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

interface Plan {
  /** Every scan of a table or an index: node type, and the index. */
  scans: string[];
  /** With `analyze`: the rows those scans read (returned or filtered out), every loop counted. */
  rowsRead: number;
  text: string;
}

/** The plan of `statement` with `values`; `analyze` runs it too (for reads only). */
async function plan(statement: Statement, values: unknown[], analyze = false): Promise<Plan> {
  const text = statement.text.replace(/\$(\d+)/g, (_, n) => literal(values[Number(n) - 1]));
  const options = analyze ? 'analyze, format json' : 'format json';
  const [row] = await execute<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
    `explain (${options}) ${text}`,
  );
  const raw = row?.['QUERY PLAN'];
  const root = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan as PlanNode;
  const found: Plan = { scans: [], rowsRead: 0, text: JSON.stringify(root) };
  const walk = (node: PlanNode) => {
    const type = node['Node Type'];
    if (type.includes('Scan') && !['Function Scan', 'Subquery Scan'].includes(type)) {
      found.scans.push(`${type}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`);
      const read = (node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0);
      found.rowsRead += read * (node['Actual Loops'] ?? 1);
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(root);
  return found;
}

const noSeqScan = (found: Plan) =>
  expect(
    found.scans.filter((s) => s.startsWith('Seq Scan')),
    found.text,
  ).toEqual([]);
const PAGE = 50;

describe(`with ${FINISHED.toLocaleString('en')} finished messages in the table`, () => {
  it('lists dead letters through message_dead_idx, reading one page, from the start and from a cursor', async () => {
    for (const after of ['-infinity', new Date(Date.now() - 500_000_000).toISOString()]) {
      const found = await plan(LIST_DEAD_LETTERS, ['ix.inbox', after, '', PAGE + 1], true);
      noSeqScan(found);
      expect(found.scans).toEqual(['Index Scan on message_dead_idx']);
      expect(found.rowsRead).toBe(PAGE + 1);
    }
  });

  it('browses an inbox and an outbox through their indexes, reading at most a page per state', async () => {
    for (const direction of ['inbox', 'sent'] as const) {
      const index = direction === 'inbox' ? 'message_inbox_idx' : 'message_outbox_idx';
      const agent = direction === 'inbox' ? 'ix.inbox' : 'ix.sender';
      for (const states of [
        ['acked'],
        ['delivered'],
        ['delivered', 'leased', 'acked', 'dead', 'cancelled'],
      ]) {
        const found = await plan(
          LIST_MESSAGES[direction],
          [agent, states, '9223372036854775807', PAGE + 1],
          true,
        );
        noSeqScan(found);
        expect(
          found.scans.every((s) => s.endsWith(`on ${index}`)),
          found.text,
        ).toBe(true);
        expect(found.rowsRead, found.text).toBeLessThanOrEqual(states.length * (PAGE + 1));
      }
    }
  });

  it('finds a thread through the correlation index', async () => {
    const found = await plan(THREAD, ['ix-thread', 'ix.sender'], true);
    noSeqScan(found);
    expect(found.scans.join(), found.text).toContain('message_correlation_idx');
  });

  it('keeps PULL on an index of live messages only, past a backlog of delayed ones', async () => {
    // Safe to run: every live message is delayed, so the lease finds nothing to take.
    const found = await plan(LEASE, ['ix.inbox', 30, 1], true);
    noSeqScan(found);
    const [scan] = found.scans;
    // Both indexes hold only delivered and leased rows; the planner picks by its estimates.
    expect(['Index Scan on message_ready_idx', 'Index Scan on message_expiry_idx'], found.text).toContain(
      scan,
    );
    expect(found.rowsRead, found.text).toBeLessThanOrEqual(DELAYED);
  });

  it('answers each listing and a PULL correctly on that table', async () => {
    const dead = await relay.call('GET', '/v1/agents/ix.inbox/dead-letters?limit=3');
    expect(dead.body.messages).toHaveLength(3);
    expect(dead.body.next_cursor).toEqual(expect.any(String));
    const delivered = await relay.call('GET', '/v1/agents/ix.inbox/messages?status=delivered&limit=5');
    expect(delivered.body.messages.map((m: any) => m.subject)).toEqual(Array(5).fill('later'));
    const newest = await relay.call('GET', '/v1/agents/ix.sender/messages?direction=sent&limit=2');
    expect(newest.body.messages.map((m: any) => m.status)).toEqual(['delivered', 'delivered']);
    const thread = await relay.call('GET', '/v1/threads/ix-thread');
    expect(thread.body.messages).toHaveLength(FINISHED / 1000);
    expect((await relay.call('POST', '/v1/agents/ix.inbox/inbox/pull')).status).toBe(204);
  });
});
