/**
 * The `admp` command against a live relay process: each command line through `runCli` in this
 * process, and the process around it (bin/admp.js, as npm installs it) for its exit codes and streams.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { admpInProcess, runAdmp } from '../support/admp-cli.js';
import { freePort } from '../support/postgres-server.js';
import {
  ADMIN_KEY,
  createDatabase,
  type RelayProcess,
  registerAgent,
  request,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

// The relay is a process of its own: slow to start on a busy machine, not wrong.
vi.setConfig({ testTimeout: 120_000 });

let database: Awaited<ReturnType<typeof createDatabase>>;
let relay: RelayProcess;
let dir: string;

beforeAll(async () => {
  database = await createDatabase();
  relay = await spawnRelay({ env: { DATABASE_URL: database.url } });
  dir = mkdtempSync(join(tmpdir(), 'admp-cli-'));
});
afterAll(async () => {
  await stopRelay(relay);
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** `admp …args` with ADMP_URL pointing at the test relay, plus `env`. */
const admp = (args: string[], env: Record<string, string> = {}) =>
  admpInProcess(args, { ADMP_URL: relay.url, ...env }, dir);
/** The same as a process: bin/admp.js, its exit code and its streams. */
const admpProcess = (args: string[], env: Record<string, string> = {}) =>
  runAdmp(args, { ADMP_URL: relay.url, ...env }, dir);

const admin = { ADMP_API_KEY: ADMIN_KEY };
const as = (agent: { id: string; apiKey: string }) => ({
  ADMP_AGENT_ID: agent.id,
  ADMP_API_KEY: agent.apiKey,
});

describe('help and mistakes', () => {
  it('prints --help for every command, naming its usage, and exits 0', async () => {
    const runs = await Promise.all(COMMANDS.map((c) => admp([...c.name.split(' '), '--help'])));
    for (const [i, run] of runs.entries()) {
      expect(run.code, COMMANDS[i]?.name).toBe(0);
      expect(run.stdout).toContain(`Usage: admp ${COMMANDS[i]?.name}`);
    }
    const overview = await admp(['--help']);
    for (const c of COMMANDS) expect(overview.stdout).toContain(c.name);
  });

  it('exits 2 with one line for an unknown command, option or missing argument', async () => {
    const runs = await Promise.all([
      admpProcess(['frobnicate']),
      admpProcess(['send', 'x', '--nope']),
      admp(['ack']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(runs[1]?.stderr).toContain("'--nope'");
  });

  it('says when the relay cannot be reached, and exits 1', async () => {
    const port = await freePort();
    const run = await admpProcess(['agents', 'list'], { ...admin, ADMP_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^admp: cannot reach the relay at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
  });
});

describe('agents', () => {
  it('creates agents (secrets shown once), lists them and deletes them', async () => {
    const created = await admp(['agents', 'create', 'cli.one', 'cli.two', '--tier', 'free'], admin);
    expect(created.code).toBe(0);
    const lines = created.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.agent_id, l.tier])).toEqual([
      ['cli.one', 'free'],
      ['cli.two', 'free'],
    ]);
    expect(lines[0].api_key).toMatch(/^admp_/);
    expect(created.stderr).toContain('created 2/2: cli.two');

    const listed = await admp(['agents', 'list'], admin);
    expect(listed.stdout).toMatch(/^AGENT\s+TIER/);
    expect(listed.stdout).toMatch(/\ncli\.one\s+free\s/);

    const deleted = await admp(['agents', 'delete', 'cli.one', 'cli.two'], admin);
    expect(deleted.stdout).toBe('deleted cli.one\ndeleted cli.two\n');
    const gone = await request(relay.url, 'GET', '/v1/agents/cli.one', ADMIN_KEY);
    expect(gone.status).toBe(404);
  });

  it('renders the relay’s error as one line and exits 1', async () => {
    const run = await admp(['agents', 'create', 'cli.dup', 'cli.dup'], admin);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\nadmp: id_conflict: .+ \(HTTP 409, request [\w-]+\)\n$/);
  });
});

describe('send, pull, ack, nack', () => {
  let alice: { id: string; apiKey: string };
  let bob: { id: string; apiKey: string };
  beforeAll(async () => {
    alice = await registerAgent(relay.url, 'cli.alice');
    bob = await registerAgent(relay.url, 'cli.bob');
  });

  it('sends, pulls and acknowledges one message with its lease id', async () => {
    const sent = await admp(
      ['send', 'agent://cli.bob', '--subject', 'create_user', '--body', '{"n":1}'],
      as(alice),
    );
    expect(sent.code).toBe(0);
    const id = sent.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const pulled = await admp(['pull', '--visibility-timeout', '60'], as(bob));
    const message = JSON.parse(pulled.stdout);
    expect(message).toMatchObject({ id, subject: 'create_user', body: { n: 1 }, status: 'leased' });

    const acked = await admp(['ack', id, '--lease-id', message.lease_id], as(bob));
    expect([acked.code, acked.stdout]).toEqual([0, 'acked\n']);
    const again = await admp(['ack', id, '--lease-id', message.lease_id], as(bob));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^admp: not_found: /);

    const empty = await admp(['pull'], as(bob));
    expect([empty.code, empty.stdout, empty.stderr]).toEqual([0, '', 'inbox empty\n']);
  });

  it('reads the body from a file, sets headers and type, and refuses a body that is not an object', async () => {
    writeFileSync(join(dir, 'body.json'), '{"from_file":true}');
    const sent = await admp(
      ['send', 'cli.bob', '--subject', 's', '--body-file', 'body.json', '--type', 'event', '--header', 'k=v'],
      as(alice),
    );
    expect(sent.code).toBe(0);
    const message = JSON.parse((await admp(['pull'], as(bob))).stdout);
    expect(message).toMatchObject({ type: 'event', body: { from_file: true }, headers: { k: 'v' } });
    await admp(['ack', message.id, '--lease-id', message.lease_id], as(bob));

    const bad = await admp(['send', 'cli.bob', '--subject', 's', '--body', '[1]'], as(alice));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--body must be a JSON object');
  });

  it('sends with a correlation id, ttl and idempotency key (a repeat is the same message), and pull --wait waits', async () => {
    const args = ['send', 'agent://cli.bob', '--subject', 'once', '--correlation-id', 'c-1', '--ttl', '600'];
    const first = await admp([...args, '--idempotency-key', 'k-1'], as(alice));
    const repeat = await admp([...args, '--idempotency-key', 'k-1'], as(alice));
    expect(first.code).toBe(0);
    expect(repeat.stdout).toBe(first.stdout);
    const pulled = await admp(['pull', '--wait', '1'], as(bob));
    expect(pulled.stderr).toBe('waiting up to 1 s for a message…\n');
    const message = JSON.parse(pulled.stdout);
    expect(message).toMatchObject({ id: first.stdout.trim(), correlation_id: 'c-1', ttl_sec: 600 });
    await admp(['ack', message.id, '--lease-id', message.lease_id], as(bob));
    const none = await admp(['pull', '--max', '5', '--wait', '1'], as(bob));
    expect([none.code, none.stdout, none.stderr]).toEqual([
      0,
      '',
      'waiting up to 1 s for a message…\ninbox empty\n',
    ]);
  });

  it('extends a lease with nack --extend, and gives a message back with nack', async () => {
    const id = (await admp(['send', 'cli.bob', '--subject', 'n'], as(alice))).stdout.trim();
    const message = JSON.parse((await admp(['pull'], as(bob))).stdout);
    const extended = await admp(['nack', id, '--extend', '120', '--lease-id', message.lease_id], as(bob));
    expect(JSON.parse(extended.stdout)).toMatchObject({ status: 'leased', attempts: 0 });
    const back = await admp(['nack', id, '--lease-id', message.lease_id], as(bob));
    expect(JSON.parse(back.stdout)).toMatchObject({ status: 'delivered', attempts: 1 });
    const again = JSON.parse((await admp(['pull'], as(bob))).stdout);
    await admp(['ack', id, '--lease-id', again.lease_id], as(bob));
  });

  it('shows inbox stats for one agent and for all, with progress on stderr', async () => {
    await admp(['send', 'cli.bob', '--subject', 'waiting'], as(alice));
    const mine = await admp(['stats', '--json'], as(bob));
    expect(JSON.parse(mine.stdout)['cli.bob']).toMatchObject({ ready: 1, leased: 0, dead: 0 });
    const all = await admp(['stats', '--all'], admin);
    expect(all.stdout).toMatch(/\ncli\.bob\s+1\s+0\s+0\s+\d+ s/);
    expect(all.stderr).toMatch(/stats (\d+)\/\1\n$/);
    const message = JSON.parse((await admp(['pull'], as(bob))).stdout);
    await admp(['ack', message.id, '--lease-id', message.lease_id], as(bob));
  });
});
