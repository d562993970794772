/**
 * Docker cannot run here, so this runs what the container would: deploy/Dockerfile's build stage
 * (its files in a directory of their own, its RUN steps), then the runtime stage's command, from a
 * directory holding only what that stage copies, with the Dockerfile's ENV and
 * deploy/docker-compose.yml's relay environment, against a database initialised the way the
 * compose file's PostgreSQL initialises it (deploy/init-db.sql).
 */
import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { interpolate, readCompose, readDockerfile } from '../support/deploy-files.js';
import { withDatabase } from '../support/global-postgres.js';
import { freePort } from '../support/postgres-server.js';
import {
  ADMIN_KEY,
  buildCheckoutSdk,
  envelope,
  REPO_ROOT,
  registerAgent,
  request,
  sleep,
  withClient,
} from './relay-process.js';

const image = readDockerfile();
const relayService = readCompose().services.relay;
if (!relayService) throw new Error('deploy/docker-compose.yml has no relay service');

let appDir: string;
let buildDir: string;
let dbName: string;
let relay: ChildProcess;
let url: string;
let env: Record<string, string>;
let output = '';
let admpVersion: string;

/**
 * Runs a stage as `docker build` would: its context copies into a directory of its own and its RUN
 * steps there, except the dependency install, for which the checkout's node_modules stands in.
 */
function runStage(name: string): string {
  const stage = image.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`deploy/Dockerfile has no stage ${name}`);
  const dir = mkdtempSync(join(tmpdir(), `admp-image-${name}-`));
  for (const source of stage.contextCopies) {
    cpSync(join(REPO_ROOT, source), join(dir, source), { recursive: true });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const run of stage.runs) {
    if (/^npm (ci|install)\b/.test(run)) continue;
    // Niced: the compiler must not starve the relays that other test files start meanwhile.
    execSync(`nice -n 10 ${run}`, { cwd: dir, stdio: 'pipe', timeout: 240_000 });
  }
  return dir;
}

beforeAll(async () => {
  buildCheckoutSdk();
  // The image's /app: only what the runtime stage copies from the build context, what it copies
  // from the build stage (run here), and the dependencies its first stage installs (here: the
  // checkout's own node_modules).
  buildDir = runStage('build');
  appDir = mkdtempSync(join(tmpdir(), 'admp-image-'));
  for (const source of image.contextCopies) {
    cpSync(join(REPO_ROOT, source), join(appDir, source), { recursive: true });
  }
  for (const copy of image.stages.at(-1)?.stageCopies ?? []) {
    if (copy.from === 'deps') continue;
    expect(copy.from).toBe('build');
    for (const source of copy.sources) {
      const from = join(buildDir, relative('/app', source));
      expect(existsSync(from), `${source} in the build stage`).toBe(true);
      cpSync(from, join(appDir, copy.dest), { recursive: true });
    }
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(appDir, 'node_modules'), 'dir');
  // Run before the relay starts, so that no pause between requests lets a kept-alive connection
  // idle out under a test's feet.
  admpVersion = String(execFileSync(process.execPath, ['bin/admp.js', '--version'], { cwd: appDir })).trim();

  // An empty database, then deploy/init-db.sql, as postgres:16's docker-entrypoint-initdb.d does.
  const server = inject('postgresUrl');
  dbName = `docker_${crypto.randomUUID().replaceAll('-', '')}`;
  await withClient(server, (c) => c.query(`create database ${dbName}`));
  const databaseUrl = withDatabase(server, dbName);
  const initSql = readFileSync(join(REPO_ROOT, 'deploy/init-db.sql'), 'utf8');
  await withClient(databaseUrl, (c) => c.query(initSql));

  // The container's environment: the image's ENV, then compose's, interpolated from the shell
  // that runs `docker compose up`. Two values differ, and only in where they point: the
  // database is this run's server rather than the `postgres` service, and the port is a free
  // one rather than 3030 (compose maps the container's port; a test cannot own 3030).
  const port = await freePort();
  const shell = { API_KEY: ADMIN_KEY };
  const composeEnv = Object.fromEntries(
    Object.entries(relayService.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), shell)]),
  );
  expect(composeEnv.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: appDir,
    ...image.env,
    ...composeEnv,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
  };
  url = `http://127.0.0.1:${port}`;

  const [program, ...args] = image.command;
  expect(program).toBe('node');
  relay = spawn(process.execPath, args, { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  relay.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  relay.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  // Generous: a relay on a busy machine starts late, not never.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (relay.exitCode !== null) throw new Error(`relay exited (${relay.exitCode}):\n${output}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`no /health within 60 s:\n${output}`);
    await sleep(100);
  }
}, 300_000);

afterAll(async () => {
  if (relay && relay.exitCode === null) relay.kill('SIGKILL');
  for (const dir of [appDir, buildDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  await withClient(inject('postgresUrl'), (c) => c.query(`drop database if exists ${dbName} with (force)`));
});

/** Runs a HEALTHCHECK's exec-form command inside the "container": its cwd and environment. */
function healthcheck(test: string[]): number {
  const [kind, program, ...args] = test;
  expect(kind).toBe('CMD');
  expect(program).toBe('node');
  try {
    execFileSync(process.execPath, args, { cwd: appDir, env, stdio: 'pipe', timeout: 30_000 });
    return 0;
  } catch (error) {
    return (error as { status: number }).status ?? -1;
  }
}

describe('the container, run without Docker', () => {
  it('runs in production mode on PostgreSQL and answers /health', async () => {
    expect(env.NODE_ENV).toBe('production');
    const health = await request(url, 'GET', '/health', null);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect(output).toContain('"database":"postgres"');
  });

  it('runs the compiled JavaScript from the build stage, with no TypeScript in the image', () => {
    expect(image.command.slice(1)).toEqual(['dist/entry/node.js']);
    expect(existsSync(join(appDir, 'src'))).toBe(false);
    expect(existsSync(join(appDir, 'dist/entry/node.js'))).toBe(true);
    // The `admp` command shipped beside it finds the build, as it does in an installed package.
    expect(admpVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('passes the Dockerfile HEALTHCHECK and the compose health check', () => {
    const dockerfileCheck = image.instructions.find((i) => i.keyword === 'HEALTHCHECK');
    const exec = JSON.parse((dockerfileCheck?.args ?? '').replace(/^.*?CMD\s+/s, '')) as string[];
    expect(healthcheck(['CMD', ...exec])).toBe(0);
    expect(healthcheck(relayService.healthcheck?.test ?? [])).toBe(0);
  });

  it('registers agents, then sends, pulls and acknowledges a message', async () => {
    const alice = await registerAgent(url, 'docker.alice');
    const bob = await registerAgent(url, 'docker.bob');
    const message = envelope(alice.id, bob.id);
    const sent = await request(url, 'POST', `/v1/agents/${bob.id}/messages`, alice.apiKey, message);
    expect(sent.status).toBe(201);
    const pulled = await request(url, 'POST', `/v1/agents/${bob.id}/inbox/pull`, bob.apiKey);
    expect(pulled.status).toBe(200);
    expect(pulled.body.id).toBe(message.id);
    const ackPath = `/v1/agents/${bob.id}/messages/${message.id}/ack?lease_id=${pulled.body.lease_id}`;
    const acked = await request(url, 'POST', ackPath, bob.apiKey);
    expect(acked.body).toEqual({ status: 'acked' });
    const status = await request(url, 'GET', `/v1/messages/${message.id}/status`, alice.apiKey);
    expect(status.body.status).toBe('acked');
  });

  it('serves the interactive API docs with Swagger UI from the image itself', async () => {
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js');
    const script = await fetch(`${url}/docs/assets/swagger-ui-dist/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  it('stops cleanly on SIGTERM, as `docker stop` sends it', async () => {
    const exited = new Promise<number | null>((resolve) => relay.once('exit', (code) => resolve(code)));
    relay.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(healthcheck(relayService.healthcheck?.test ?? [])).toBe(1);
  });
});
