import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createDatabase,
  envelope,
  type RelayProcess,
  registerAgent,
  request,
  sleep,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

const FIRST = `
policies:
  - { name: no-blocked, priority: 10, subject_pattern: '^blocked$', action: deny }
  - { name: metered-senders, priority: 20, from_agent_pattern: '^metered\\.', action: allow, rate_limit_per_hour: 4 }
`;
const SECOND = `
policies:
  - { name: no-second, priority: 10, subject_pattern: '^second$', action: deny }
`;

let database: Awaited<ReturnType<typeof createDatabase>>;
let dir: string;
let file: string;
let withFile: RelayProcess;
let withoutFile: RelayProcess;
let sender: { id: string; apiKey: string };

beforeAll(async () => {
  database = await createDatabase();
  dir = mkdtempSync(join(tmpdir(), 'admp-reload-'));
  file = join(dir, 'policy.yaml');
  writeFileSync(file, FIRST);
  withFile = await spawnRelay({ env: { DATABASE_URL: database.url, POLICY_FILE: file, LOG_LEVEL: 'info' } });
  withoutFile = await spawnRelay({ env: { DATABASE_URL: database.url, POLICY_REFRESH_SEC: '1' } });
  sender = await registerAgent(withFile.url, 'sender.one');
  await registerAgent(withFile.url, 'inbox.one');
});
afterAll(async () => {
  await Promise.all([stopRelay(withFile), stopRelay(withoutFile)]);
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const send = (relay: RelayProcess, from: { id: string; apiKey: string }, subject: string) =>
  request(
    relay.url,
    'POST',
    '/v1/agents/inbox.one/messages',
    from.apiKey,
    envelope(from.id, 'inbox.one', { subject }),
  );

/** Polls until `relay` answers `status` for a message with this subject; generous, as a wait for an event. */
async function eventually(relay: RelayProcess, subject: string, status: number, withinMs = 20_000) {
  const started = Date.now();
  for (;;) {
    const r = await send(relay, sender, subject);
    if (r.status === status) return;
    if (Date.now() - started > withinMs)
      throw new Error(`${subject} still answers ${r.status}: ${JSON.stringify(r.body)}`);
    await sleep(100);
  }
}

it('enforces the file’s rules in the process that read it and in one that has no file', async () => {
  expect((await send(withFile, sender, 'blocked')).status).toBe(403);
  expect((await send(withoutFile, sender, 'blocked')).body.error.code).toBe('policy_denied');
  expect((await send(withoutFile, sender, 'fine')).status).toBe(201);
});

it('holds rate_limit_per_hour exactly across both processes', async () => {
  const metered = await registerAgent(withFile.url, 'metered.one');
  const statuses = [];
  for (let i = 0; i < 8; i++)
    statuses.push((await send(i % 2 ? withFile : withoutFile, metered, `n${i}`)).status);
  expect(statuses.filter((s) => s === 201)).toHaveLength(4);
  expect(statuses.slice(4)).toEqual([429, 429, 429, 429]);
});

it('reloads the file on SIGHUP, and the other process follows at its next refresh', {
  timeout: 60_000,
}, async () => {
  writeFileSync(file, SECOND);
  withFile.kill('SIGHUP');
  await eventually(withFile, 'blocked', 201);
  expect((await send(withFile, sender, 'second')).status).toBe(403);
  await eventually(withoutFile, 'second', 403);
  expect((await send(withoutFile, sender, 'blocked')).status).toBe(201);
  expect(withFile.stdout()).toContain('"message":"policy reloaded"');
});

it('keeps the rules in force when the reloaded file is broken, and logs why', async () => {
  writeFileSync(
    file,
    "policies:\n  - { name: bad, action: deny, subject_pattern: '(' }\n  - { name: worse }\n",
  );
  withFile.kill('SIGHUP');
  const started = Date.now();
  while (!withFile.stdout().includes('policy reload failed') && Date.now() - started < 20_000)
    await sleep(50);
  const line = withFile
    .stdout()
    .split('\n')
    .find((l) => l.includes('policy reload failed'));
  expect(JSON.parse(line as string)).toMatchObject({
    level: 'error',
    problems: [
      expect.stringContaining('policies[0] (bad).subject_pattern'),
      expect.stringContaining('policies[1] (worse).action'),
    ],
  });
  expect((await send(withFile, sender, 'second')).status).toBe(403);
  expect((await send(withoutFile, sender, 'second')).status).toBe(403);
  expect((await send(withFile, sender, 'blocked')).status).toBe(201);
});
