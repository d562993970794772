/**
 * The relay as npm publishes it: `npm pack` of a copy of the checkout (so its prepack build never
 * races a test using the checkout's dist/), the tarball installed in an empty project with its
 * production dependencies from the registry, then the installed `admp` command: a relay on
 * embedded PostgreSQL, a message sent, pulled and acknowledged through the CLI, and a SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../support/postgres-server.js';
import { ADMIN_KEY, buildCheckoutSdk, REPO_ROOT, sleep } from './relay-process.js';

// Nothing a package build reads lives in these; they are large or belong to other builds.
const NOT_COPIED = new Set(['node_modules', '.git', 'dist', '.admp', '.wrangler', '.venv', '__pycache__']);

let work: string;
let packed: { filename: string; files: { path: string }[] };
let project: string;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };

function run(command: string, args: string[], cwd: string, timeout = 600_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (error as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  buildCheckoutSdk();
  work = mkdtempSync(join(tmpdir(), 'admp-package-'));
  const checkout = join(work, 'checkout');
  cpSync(REPO_ROOT, checkout, { recursive: true, filter: (source) => !NOT_COPIED.has(basename(source)) });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');

  // Niced: its build must not starve the relays that other test files start meanwhile.
  const pack = await run('nice', ['-n', '10', 'npm', 'pack', '--json', '--pack-destination', work], checkout);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  // The prepack build may print before npm's JSON.
  [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('\n[') + 1 || 0));

  project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-the-relay', private: true }));
  // The relay's MCP tools use the JS SDK, a package of this repository's too: both tarballs.
  const sdkPack = await run('npm', ['pack', '--json', '--pack-destination', work], join(checkout, 'sdk-js'));
  if (sdkPack.code !== 0) throw new Error(`npm pack of the SDK failed:\n${sdkPack.stderr}`);
  const [sdk] = JSON.parse(sdkPack.stdout.slice(sdkPack.stdout.indexOf('\n[') + 1 || 0));
  const install = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', join(work, packed.filename), join(work, sdk.filename)],
    project,
  );
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.stderr}`);
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

it('packs the compiled relay, installs with its runtime dependencies alone, and serves through `admp`', async () => {
  // What ships: the build, the migrations, the policies, the command; no TypeScript, no tests.
  const files = packed.files.map((f) => f.path);
  const top = new Set(files.map((f) => f.split('/')[0]));
  expect([...top].sort()).toEqual([
    'LICENSE',
    'README.md',
    'bin',
    'dist',
    'drizzle',
    'package.json',
    'policies',
  ]);
  expect(files).toEqual(
    expect.arrayContaining([
      'bin/admp.js',
      'dist/entry/node.js',
      'dist/cli/node-main.js',
      'drizzle/meta/_journal.json',
      'drizzle/0000_init.sql',
      'policies/default.yaml',
    ]),
  );
  expect(files.filter((f) => /\.ts$|\.test\.|tsbuildinfo|^dist\/worker/.test(f))).toEqual([]);
  const installed = join(project, 'node_modules');
  for (const dev of ['tsx', 'typescript', 'vitest', 'wrangler'])
    expect(existsSync(join(installed, dev)), dev).toBe(false);

  const admp = join(installed, '.bin/admp');
  const help = await run('npx', ['--no', '--', 'admp', '--help'], project, 60_000);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('serve');

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = join(work, 'data');
  let output = '';
  const relay = spawn(
    admp,
    ['serve', '--port', String(port), '--data-dir', dataDir, '--admin-key', ADMIN_KEY],
    {
      cwd: project,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    relay.once('exit', (code, signal) => resolve({ code, signal })),
  );
  for (const stream of [relay.stdout, relay.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
  }
  try {
    for (let healthy = false; !healthy; ) {
      if (relay.exitCode !== null) throw new Error(`admp serve exited:\n${output}`);
      healthy = await fetch(`${url}/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!healthy) await sleep(200);
    }
    expect(output).toContain(`embedded PostgreSQL in ${dataDir}`);

    /** `admp …args` against this relay with the given credentials, as flags. */
    const as = (apiKey: string, agent?: string) => (args: string[]) =>
      run(
        admp,
        [...args, '--url', url, '--api-key', apiKey, ...(agent ? ['--agent', agent] : [])],
        project,
        60_000,
      );
    const created = await as(ADMIN_KEY)(['agents', 'create', 'pkg.alice', 'pkg.bob']);
    expect(created.code, created.stderr).toBe(0);
    const [alice, bob] = created.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { agent_id: string; api_key: string });
    if (!alice || !bob) throw new Error(`agents create printed:\n${created.stdout}`);

    const sent = await as(
      alice.api_key,
      alice.agent_id,
    )(['send', bob.agent_id, '--subject', 'packaged', '--body', '{"from":"the tarball"}']);
    expect(sent.code, sent.stderr).toBe(0);
    const messageId = sent.stdout.trim();

    const asBob = as(bob.api_key, bob.agent_id);
    const pulled = await asBob(['pull']);
    expect(pulled.code, pulled.stderr).toBe(0);
    const message = JSON.parse(pulled.stdout);
    expect(message).toMatchObject({ id: messageId, body: { from: 'the tarball' } });
    const acked = await asBob(['ack', messageId, '--lease-id', message.lease_id]);
    expect(acked.code, acked.stderr).toBe(0);
    expect(acked.stdout.trim()).toBe('acked');

    relay.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(output).toContain('"message":"stopped"');
    expect(existsSync(join(dataDir, 'admp.lock'))).toBe(false);
  } finally {
    if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
  }
}, 300_000);
