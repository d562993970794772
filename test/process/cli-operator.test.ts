/** `admp dead-letters`, `send --delay`, `nack --delay`, `cancel`, `ls` and `thread` against a live relay process. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { admpInProcess } from '../support/admp-cli.js';
import {
  createDatabase,
  envelope,
  type RelayProcess,
  registerAgent,
  request,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

// The relay is a process of its own: slow to start on a busy machine, not wrong.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let database: Awaited<ReturnType<typeof createDatabase>>;
let relay: RelayProcess;
let dir: string;
let alice: { id: string; apiKey: string };
let bob: { id: string; apiKey: string };

beforeAll(async () => {
  database = await createDatabase();
  relay = await spawnRelay({ env: { DATABASE_URL: database.url } });
  dir = mkdtempSync(join(tmpdir(), 'admp-cli-ops-'));
});
afterAll(async () => {
  await stopRelay(relay);
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const fresh = (name: string) => registerAgent(relay.url, `${name}.${crypto.randomUUID().slice(0, 8)}`);

beforeEach(async () => {
  alice = await fresh('ops.alice');
  bob = await fresh('ops.bob');
});

const admp = (args: string[], env: Record<string, string> = {}, stdin?: string) =>
  admpInProcess(args, { ADMP_URL: relay.url, ...env }, dir, stdin);
const asAlice = () => ({ ADMP_AGENT_ID: alice.id, ADMP_API_KEY: alice.apiKey });
const asBob = () => ({ ADMP_AGENT_ID: bob.id, ADMP_API_KEY: bob.apiKey });
const bobApi = (method: string, path: string) => request(relay.url, method, path, bob.apiKey);
const status = async (id: string) =>
  (await request(relay.url, 'GET', `/v1/messages/${id}/status`, alice.apiKey)).body;

async function send(subject: string): Promise<string> {
  const r = await request(relay.url, 'POST', `/v1/agents/${bob.id}/messages`, alice.apiKey, {
    ...envelope(alice.id, bob.id),
    subject,
  });
  expect(r.status).toBe(201);
  return r.body.message_id as string;
}

/** A message bob NACKs until it is dead (the relay's default is 3 attempts). */
async function deadLetter(subject: string): Promise<string> {
  const id = await send(subject);
  for (;;) {
    const pulled = await bobApi('POST', `/v1/agents/${bob.id}/inbox/pull`);
    expect(pulled.body.id).toBe(id);
    const nacked = await bobApi('POST', `/v1/agents/${bob.id}/messages/${id}/nack`);
    if (nacked.body.status === 'dead') return id;
  }
}

describe('dead-letters', () => {
  it('lists, redrives by id and all, and purges', async () => {
    const [d1, d2, d3] = [await deadLetter('d1'), await deadLetter('d2'), await deadLetter('d3')];
    const listed = await admp(['dead-letters', 'list', '--limit', '2'], asBob());
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+STATUS\s+TYPE\s+FROM\s+TO\s+ATTEMPTS\s+DIED\s+SUBJECT$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 2))).toEqual([
      [d1, 'dead'],
      [d2, 'dead'],
    ]);
    const cursor = listed.stderr.match(/more: --cursor (\S+)/)?.[1];
    expect(cursor).toBeDefined();
    const next = await admp(['dead-letters', 'list', '--json', '--cursor', cursor as string], asBob());
    expect(JSON.parse(next.stdout)).toMatchObject({ messages: [{ id: d3, attempts: 3 }], next_cursor: null });

    const one = await admp(['dead-letters', 'redrive', d1 as string], asBob());
    expect([one.code, one.stdout]).toEqual([0, '1\n']);
    expect(await status(d1 as string)).toMatchObject({ status: 'delivered', attempts: 0 });

    const purged = await admp(['dead-letters', 'purge', d2 as string], asBob());
    expect([purged.code, purged.stdout]).toEqual([0, `${d2} purged\n`]);
    const again = await admp(['dead-letters', 'purge', d2 as string], asBob());
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^admp: not_found: /);

    const all = await admp(['dead-letters', 'redrive', '--all'], asBob());
    expect([all.code, all.stdout]).toEqual([0, '1\n']);
    expect(await status(d3 as string)).toMatchObject({ status: 'delivered', attempts: 0 });
  });

  it('needs ids or --all for redrive, not both, and exits 2 otherwise', async () => {
    expect((await admp(['dead-letters', 'redrive'], asBob())).code).toBe(2);
    expect((await admp(['dead-letters', 'redrive', 'x', '--all'], asBob())).code).toBe(2);
  });
});

describe('delay, cancel, ls and thread', () => {
  it('send --delay stores a message that is not pulled before its time, and cancel stops it', async () => {
    const sent = await admp(['send', bob.id, '--subject', 'later', '--delay', '60'], asAlice());
    expect(sent.code).toBe(0);
    const id = sent.stdout.trim();
    const s = await status(id);
    expect(Date.parse(s.available_at) - Date.parse(s.created_at)).toBeGreaterThanOrEqual(59_000);
    expect((await bobApi('POST', `/v1/agents/${bob.id}/inbox/pull`)).status).toBe(204);

    const cancelled = await admp(['cancel', id], asAlice());
    expect([cancelled.code, cancelled.stdout]).toEqual([0, 'cancelled\n']);
    const twice = await admp(['cancel', id], asAlice());
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^admp: invalid_state: /);
  });

  it('nack --delay gives a message back ready only later', async () => {
    const id = await send('back off');
    const pulled = await bobApi('POST', `/v1/agents/${bob.id}/inbox/pull`);
    const run = await admp(['nack', id, '--delay', '60', '--lease-id', pulled.body.lease_id], asBob());
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect((await bobApi('POST', `/v1/agents/${bob.id}/inbox/pull`)).status).toBe(204);
    expect((await admp(['nack', id, '--delay', '1', '--extend', '1'], asBob())).code).toBe(2);
  });

  it('ls lists the inbox or what was sent, newest first, by status, leasing nothing', async () => {
    const [a, b] = [await send('first'), await send('second')];
    const inbox = await admp(['ls', '--json'], asBob());
    expect(JSON.parse(inbox.stdout).messages.map((m: { id: string }) => m.id)).toEqual([b, a]);
    const sent = await admp(['ls', '--sent', '--status', 'delivered'], asAlice());
    const rows = sent.stdout.trim().split('\n');
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual([b, a]);
    expect(rows[1]).toContain('second');
    const stats = await bobApi('GET', `/v1/agents/${bob.id}/inbox/stats`);
    expect(stats.body).toMatchObject({ ready: 2, leased: 0 });
    const none = await admp(['ls', '--status', 'dead'], asBob());
    expect([none.code, none.stdout, none.stderr]).toEqual([0, '', 'no messages\n']);
  });

  it('thread shows a request and its reply, oldest first, to the agents in it only', async () => {
    const id = await send('question');
    const pulled = await bobApi('POST', `/v1/agents/${bob.id}/inbox/pull`);
    const reply = await request(
      relay.url,
      'POST',
      `/v1/agents/${bob.id}/messages/${id}/reply?lease_id=${pulled.body.lease_id}`,
      bob.apiKey,
      { result: { answer: 42 } },
    );
    expect(reply.status).toBe(200);
    const run = await admp(['thread', id], asAlice());
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      [id, 'acked', 'task.request'],
      [reply.body.message_id, 'delivered', 'task.result'],
    ]);
    const carol = await fresh('ops.carol');
    const stranger = await admp(['thread', id], { ADMP_AGENT_ID: carol.id, ADMP_API_KEY: carol.apiKey });
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/^admp: not_found: /);
  });
});
