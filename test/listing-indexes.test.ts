import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Statement } from '../src/db/statements.js';
import { LIST_MESSAGES, THREAD } from '../src/inbox/browse.js';
import { LIST_DEAD_LETTERS } from '../src/inbox/dead-letters.js';
import { LEASE } from '../src/inbox/lease.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

// Listings and PULL with a million finished messages in the table: each must be an index scan
// stopped at its page, never a walk of history. The plan is the proof: a timing would only say
// something about this machine.
const FINISHED = 1_000_000;

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
    from generate_series(1, 1000)`);
  await relay.db.execute('analyze message');
}, 900_000);
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
  Plans?: PlanNode[];
}

/** Every scan in the plan of `statement` run with `values`: node type and index. */
async function scans(statement: Statement, values: unknown[]): Promise<string[]> {
  const text = statement.text.replace(/\$(\d+)/g, (_, n) => literal(values[Number(n) - 1]));
  const [row] = await execute<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
    `explain (format json) ${text}`,
  );
  const raw = row?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan as PlanNode;
  const found: string[] = [];
  const walk = (node: PlanNode) => {
    if (node['Node Type'].includes('Scan') && node['Node Type'] !== 'Function Scan') {
      found.push(`${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`);
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  return found;
}

const noSeqScan = (found: string[]) => expect(found.filter((s) => s.startsWith('Seq Scan'))).toEqual([]);

describe(`with ${FINISHED.toLocaleString('en')} finished messages in the table`, () => {
  it('lists dead letters through message_dead_idx, from the start and from a cursor', async () => {
    for (const after of ['-infinity', new Date(Date.now() - 500_000_000).toISOString()]) {
      const found = await scans(LIST_DEAD_LETTERS, ['ix.inbox', after, '', 51]);
      noSeqScan(found);
      expect(found).toEqual(['Index Scan on message_dead_idx']);
    }
  });

  it('browses an inbox and an outbox through their indexes, in one state or in all', async () => {
    for (const direction of ['inbox', 'sent'] as const) {
      const index = direction === 'inbox' ? 'message_inbox_idx' : 'message_outbox_idx';
      const agent = direction === 'inbox' ? 'ix.inbox' : 'ix.sender';
      for (const states of [['delivered'], ['delivered', 'leased', 'acked', 'dead', 'cancelled']]) {
        const found = await scans(LIST_MESSAGES[direction], [agent, states, '9223372036854775807', 51]);
        noSeqScan(found);
        expect(found).toEqual([`Index Scan Backward on ${index}`]);
      }
    }
  });

  it('finds a thread by primary key and correlation index', async () => {
    const found = await scans(THREAD, ['ix-thread', 'ix.sender']);
    noSeqScan(found);
    expect(found.join()).toContain('message_correlation_idx');
  });

  it('keeps PULL an index scan on message_ready_idx past a backlog of delayed messages', async () => {
    const found = await scans(LEASE, ['ix.inbox', 30, 1]);
    noSeqScan(found);
    expect(found).toContain('Index Scan on message_ready_idx');
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
