/** `admp tail`, batches, `keys`, `policy check` against a live relay process, and `serve` as a process. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { admpInProcess, runAdmp } from '../support/admp-cli.js';
import { freePort } from '../support/postgres-server.js';
import {
  ADMIN_KEY,
  createDatabase,
  envelope,
  REPO_ROOT,
  type RelayProcess,
  registerAgent,
  request,
  sleep,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

// The relay (and `serve`) are processes of their own: slow to start on a busy machine, not wrong.
vi.setConfig({ testTimeout: 120_000 });

let database: Awaited<ReturnType<typeof createDatabase>>;
let relay: RelayProcess;
let dir: string;
let alice: { id: string; apiKey: string };
let bob: { id: string; apiKey: string };

beforeAll(async () => {
  database = await createDatabase();
  relay = await spawnRelay({ env: { DATABASE_URL: database.url } });
  dir = mkdtempSync(join(tmpdir(), 'admp-cli-'));
  alice = await registerAgent(relay.url, 'live.alice');
  bob = await registerAgent(relay.url, 'live.bob');
});
afterAll(async () => {
  await stopRelay(relay);
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const admp = (args: string[], env: Record<string, string> = {}, stdin?: string) =>
  admpInProcess(args, { ADMP_URL: relay.url, ...env }, dir, stdin);
const asBob = () => ({ ADMP_AGENT_ID: bob.id, ADMP_API_KEY: bob.apiKey });

async function send(subject: string) {
  const r = await request(relay.url, 'POST', `/v1/agents/${bob.id}/messages`, alice.apiKey, {
    ...envelope(alice.id, bob.id),
    subject,
  });
  expect(r.status).toBe(201);
  return r.body.message_id as string;
}

const stats = async () =>
  (await request(relay.url, 'GET', `/v1/agents/${bob.id}/inbox/stats`, bob.apiKey)).body;

describe('tail', () => {
  it('prints messages pushed over the WebSocket as JSON lines, in send order, and acks them', async () => {
    const tail = admp(['tail', '--count', '3'], asBob());
    await sleep(1_500); // some sent before the socket opens, some after
    const ids = [await send('t1'), await send('t2'), await send('t3')];
    const run = await tail;
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((m) => m.id)).toEqual(ids);
    expect(run.stderr).toContain('over the WebSocket');
    await sleep(200);
    expect(await stats()).toMatchObject({ ready: 0, leased: 0 });
  });

  it('leaves messages leased with --no-ack, and follows by long-poll PULL with --poll', async () => {
    const id = await send('kept');
    const kept = await admp(['tail', '--count', '1', '--no-ack', '--visibility-timeout', '60'], asBob());
    expect(JSON.parse(kept.stdout).id).toBe(id);
    expect(await stats()).toMatchObject({ leased: 1 });
    await request(relay.url, 'POST', `/v1/agents/${bob.id}/messages/${id}/nack`, bob.apiKey);

    const polled = await admp(['tail', '--count', '1', '--poll'], asBob());
    expect(JSON.parse(polled.stdout).id).toBe(id);
    expect(polled.stderr).toContain('long-poll PULL');
    expect(await stats()).toMatchObject({ ready: 0, leased: 0 });
  });

  it('as a process, prints what arrives and ends with exit 0 on Ctrl-C (SIGINT)', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/admp.js'), 'tail'], {
      cwd: dir,
      env: { PATH: process.env.PATH, ADMP_URL: relay.url, ...asBob() },
      stdio: 'pipe',
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const id = await send('interrupted');
    await vi.waitFor(() => expect(stdout).toContain(id), { timeout: 90_000, interval: 200 });
    await vi.waitFor(async () => expect(await stats()).toMatchObject({ ready: 0, leased: 0 }), {
      timeout: 30_000,
      interval: 200,
    });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout).id).toBe(id);
  });

  it('stops with one line and exit 1 when the relay refuses the credentials', async () => {
    const run = await admp(['tail'], { ADMP_AGENT_ID: bob.id, ADMP_API_KEY: 'admp_0000000000000000_nope' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^admp: .*HTTP 401/m);
  });
});

describe('batches', { timeout: 120_000 }, () => {
  // An inbox of their own, so that nothing another test left behind shows up here.
  let carol: { id: string; apiKey: string };
  beforeAll(async () => {
    carol = await registerAgent(relay.url, 'live.carol');
  });
  const asAlice = () => ({ ADMP_AGENT_ID: alice.id, ADMP_API_KEY: alice.apiKey });
  const asCarol = () => ({ ADMP_AGENT_ID: carol.id, ADMP_API_KEY: carol.apiKey });
  const carolStats = async () =>
    (await request(relay.url, 'GET', `/v1/agents/${carol.id}/inbox/stats`, carol.apiKey)).body;
  async function sendCarol(subject: string) {
    const r = await request(relay.url, 'POST', `/v1/agents/${carol.id}/messages`, alice.apiKey, {
      ...envelope(alice.id, carol.id),
      subject,
    });
    expect(r.status).toBe(201);
    return r.body.message_id as string;
  }
  const lines = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('send --batch sends JSON lines from stdin in one request, and an unknown recipient fails alone', async () => {
    const input = [
      { to: carol.id, subject: 'b1', body: { n: 1 } },
      { to: 'agent://live.nobody', subject: 'lost' },
      { to: carol.id, subject: 'b2', type: 'event' },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    // As a process: the lines come through its real standard input.
    const run = await runAdmp(
      ['send', '--batch', '-'],
      { ADMP_URL: relay.url, ...asAlice() },
      dir,
      `${input}\n`,
    );
    expect(run.code).toBe(1);
    const [b1, lost, b2] = lines(run.stdout);
    expect(b1).toEqual({ message_id: expect.any(String), status: 'delivered' });
    expect(lost.error.code).toBe('not_found');
    expect(b2.status).toBe('delivered');
    expect(run.stderr).toMatch(/^admp: sent 2 of 3; 1 failed \(first: not_found: /m);

    const pulled = await admp(['pull', '--max', '10', '--visibility-timeout', '60'], asCarol());
    const messages = lines(pulled.stdout);
    expect(messages.map((m) => [m.id, m.subject, m.type])).toEqual([
      [b1.message_id, 'b1', 'task.request'],
      [b2.message_id, 'b2', 'event'],
    ]);
    expect(messages[0]).toMatchObject({ from: `agent://${alice.id}`, body: { n: 1 }, status: 'leased' });
    writeFileSync(join(dir, 'work.ndjson'), pulled.stdout);
    const acked = await admp(['ack', '--batch', 'work.ndjson'], asCarol());
    expect([acked.code, acked.stderr]).toEqual([0, 'acked 2\n']);
    expect(lines(acked.stdout).map((r) => r.status)).toEqual(['acked', 'acked']);
    expect(await carolStats()).toMatchObject({ ready: 0, leased: 0 });
  });

  it('pull --max leases at most n oldest first, and ack --batch fails a stale lease alone', async () => {
    const ids = [await sendCarol('p1'), await sendCarol('p2'), await sendCarol('p3')];
    const first = await admp(['pull', '--max', '2'], asCarol());
    const leased = lines(first.stdout);
    expect(leased.map((m) => m.id)).toEqual(ids.slice(0, 2));
    // p1 goes back and is leased again: the lease_id in `first` is stale from then on.
    await request(relay.url, 'POST', `/v1/agents/${carol.id}/messages/${ids[0]}/nack`, carol.apiKey);
    const rest = lines((await admp(['pull', '--max', '5'], asCarol())).stdout);
    expect(rest.map((m) => m.id)).toEqual([ids[0], ids[2]]);

    const acked = await admp(['ack', '--batch', '-'], asCarol(), first.stdout);
    expect(acked.code).toBe(1);
    const [stale, ok] = lines(acked.stdout);
    expect(stale).toMatchObject({ message_id: ids[0], error: { code: 'not_found' } });
    expect(ok).toEqual({ message_id: ids[1], status: 'acked' });
    const refs = rest.map((m) => JSON.stringify({ message_id: m.id, lease_id: m.lease_id })).join('\n');
    expect((await admp(['ack', '--batch', '-'], asCarol(), refs)).code).toBe(0);

    const empty = await admp(['pull', '--max', '3'], asCarol());
    expect([empty.code, empty.stdout, empty.stderr]).toEqual([0, '', 'inbox empty\n']);
    expect(await carolStats()).toMatchObject({ ready: 0, leased: 0 });
  });

  it('refuses a line that is not a JSON object, naming it, with exit 2', async () => {
    const run = await admp(['send', '--batch', '-'], asAlice(), `{"to":"${carol.id}","subject":"a"}\n[1]\n`);
    expect([run.code, run.stderr]).toEqual([2, 'admp: stdin line 2: must be a JSON object\n']);
    const noLease = await admp(['ack', '--batch', '-'], asCarol(), `{"id":"${crypto.randomUUID()}"}\n`);
    expect([noLease.code, noLease.stderr]).toEqual([2, 'admp: stdin line 1: no lease_id\n']);
    const both = await admp(['ack', 'some-id', '--batch', '-'], asCarol(), '');
    expect(both.code).toBe(2);
  });
});

describe('keys', () => {
  it('issues an API key that works and revokes it', async () => {
    const issued = await admp(['keys', 'issue', bob.id, '--tier', 'free'], { ADMP_API_KEY: ADMIN_KEY });
    const key = JSON.parse(issued.stdout);
    expect(key).toMatchObject({ tier: 'free', api_key: expect.stringMatching(/^admp_/) });
    expect((await admp(['stats'], { ADMP_AGENT_ID: bob.id, ADMP_API_KEY: key.api_key })).code).toBe(0);
    const revoked = await admp(['keys', 'revoke', bob.id, key.key_id], { ADMP_API_KEY: ADMIN_KEY });
    expect(revoked.stdout).toBe(`revoked ${key.key_id}\n`);
    const refused = await admp(['stats'], { ADMP_AGENT_ID: bob.id, ADMP_API_KEY: key.api_key });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^admp: unauthorized: /);
  });

  it('generates an Ed25519 pair, registers the public key and removes it', async () => {
    const pair = JSON.parse((await admp(['keys', 'generate', '--json'], {})).stdout);
    expect(pair.public_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const added = await admp(['keys', 'add', bob.id, 'k1', pair.public_key], asBob());
    expect(added.stdout).toBe('added k1\n');
    const directory = await request(relay.url, 'GET', '/.well-known/agent-keys.json', null);
    expect(directory.body.keys).toContainEqual(expect.objectContaining({ kid: 'k1', agent_id: bob.id }));
    expect((await admp(['keys', 'remove', bob.id, 'k1'], asBob())).stdout).toBe('removed k1\n');
  });

  it('sends an envelope signed with a registered key, and one signed with another key is refused', async () => {
    const asAlice = { ADMP_AGENT_ID: alice.id, ADMP_API_KEY: alice.apiKey };
    const pair = JSON.parse((await admp(['keys', 'generate', '--json'], {})).stdout);
    const stranger = JSON.parse((await admp(['keys', 'generate', '--json'], {})).stdout);
    await admp(['keys', 'add', alice.id, 'a1', pair.public_key], asAlice);
    const sign = (key: string) => [
      'send',
      bob.id,
      '--subject',
      'signed',
      '--kid',
      'a1',
      '--signing-key',
      key,
    ];

    const good = await admp(sign(pair.private_key), asAlice);
    expect(good.code).toBe(0);
    const pulled = await request(relay.url, 'POST', `/v1/agents/${bob.id}/inbox/pull`, bob.apiKey);
    expect(pulled.body.signature).toMatchObject({ alg: 'ed25519', kid: 'a1' });
    await request(relay.url, 'POST', `/v1/agents/${bob.id}/messages/${pulled.body.id}/ack`, bob.apiKey);

    const bad = await admp(sign(stranger.private_key), asAlice);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^admp: invalid_signature: /);
    const half = await admp(['send', bob.id, '--subject', 's', '--kid', 'a1'], asAlice);
    expect(half.code).toBe(2);
  });
});

describe('policy check', () => {
  it('accepts a valid file and names its rules and tiers', async () => {
    const text =
      'tiers:\n  gold: { requests_per_minute: 6000 }\npolicies:\n  - { name: off, enabled: false, action: deny }\n';
    writeFileSync(join(dir, 'ok.yaml'), text);
    const run = await admp(['policy', 'check', 'ok.yaml']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'ok.yaml: ok (1 rule, 0 enabled; tiers: free 60/min, standard 1200/min, unlimited unlimited, gold 6000/min)\n',
    );
  });

  it('reports every problem with its field, and exits 1', async () => {
    const text =
      'tiers:\n  free: { requests_per_minute: 0, burst: 3 }\n' +
      'policies:\n  - { name: r1, action: maybe, to_agent_pattern: "(" }\n';
    writeFileSync(join(dir, 'bad.yaml'), text);
    const run = await admp(['policy', 'check', 'bad.yaml']);
    expect(run.code).toBe(1);
    const problems = run.stdout.trim().split('\n');
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad\.yaml: tiers\.free\.requests_per_minute: /),
        expect.stringMatching(/^bad\.yaml: tiers\.free: .*burst/),
        expect.stringMatching(/^bad\.yaml: policies\[0\] \(r1\)\.action: /),
        expect.stringMatching(/^bad\.yaml: policies\[0\] \(r1\)\.to_agent_pattern: must be a valid regular/),
      ]),
    );
    expect(problems).toHaveLength(4);
    expect(run.stderr).toBe('admp: bad.yaml: 4 problems\n');

    writeFileSync(join(dir, 'typo.yaml'), 'colour: red\n');
    const typo = await admp(['policy', 'check', 'typo.yaml']);
    expect([typo.code, typo.stdout]).toEqual([1, 'typo.yaml: file: Unrecognized key: "colour"\n']);
  });
});

describe('serve', () => {
  it('runs the relay like npm start, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'bin/admp.js'), 'serve', '--port', String(port), '--database-url', database.url],
      { cwd: dir, env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'warn' }, stdio: 'pipe' },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let health: { status: number; body: any } | undefined;
      // Generous: a relay on a busy machine starts late, not never.
      const deadline = Date.now() + 60_000;
      while (health?.status !== 200 && Date.now() < deadline) {
        await sleep(200);
        health = await request(`http://127.0.0.1:${port}`, 'GET', '/health', null).catch(() => undefined);
      }
      expect(health?.body.status).toBe('healthy');
      expect(stderr).toContain('starting the ADMP relay on PostgreSQL from DATABASE_URL');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
