/** `admp tail`, `keys`, `policy check` and `serve` run as processes. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runAdmp } from '../support/admp-cli.js';
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

// Every step is a process of its own (node with tsx): slow on a busy machine, not wrong.
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

const admp = (args: string[], env: Record<string, string> = {}) =>
  runAdmp(args, { ADMP_URL: relay.url, ...env }, dir);
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

  it('stops with one line and exit 1 when the relay refuses the credentials', async () => {
    const run = await admp(['tail'], { ADMP_AGENT_ID: bob.id, ADMP_API_KEY: 'admp_0000000000000000_nope' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^admp: .*HTTP 401/m);
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
