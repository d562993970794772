/**
 * `npm start` and `npx admp serve` as a person or a script runs them, stopped the ways a shell
 * stops them: a signal to npm alone (`kill %1` in a script without job control, a supervisor) or
 * to npm's whole process group (Ctrl-C in a terminal, `kill %1` with job control). Each time the
 * relay under npm must stop gracefully and give back its port and its data directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/postgres-server.js';
import { ADMIN_KEY, REPO_ROOT, sleep } from './relay-process.js';

let dataDir: string;
let running: ChildProcess | undefined;

beforeAll(() => {
  // One directory for every start: each must find it given back by the stop before.
  dataDir = mkdtempSync(join(tmpdir(), 'admp-npm-start-'));
});
afterAll(() => {
  // Whatever a failed test left in the last group: npm, its shell, the relay.
  if (running?.pid) {
    try {
      process.kill(-running.pid, 'SIGKILL');
    } catch {
      // Nothing left.
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** The processes below `pid`, with their command lines, from /proc. */
function descendants(pid: number): { pid: number; command: string }[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone while we looked.
    }
  }
  const found: { pid: number; command: string }[] = [];
  const visit = (parent: number) => {
    for (const child of parents.get(parent) ?? []) {
      const command = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' ');
      found.push({ pid: child, command });
      visit(child);
    }
  };
  visit(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });

async function until(what: string, test: () => boolean | Promise<boolean>, ms: number, output: () => string) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms; output:\n${output()}`);
    await sleep(100);
  }
}

/** Runs npm with `args` in a process group of its own, until the relay under it answers. */
async function startUnderNpm(args: string[], port: number) {
  let output = '';
  // nice execs npm, so npm is still the process spawned; niced, its first start's build does not
  // starve the relays that other test files start meanwhile.
  const npm = spawn('nice', ['-n', '10', 'npm', ...args], {
    cwd: REPO_ROOT,
    // A process group of its own, as a shell gives a job; only what npm and the relay need.
    detached: true,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      ADMP_DATA_DIR: dataDir,
      API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = npm;
  for (const stream of [npm.stdout, npm.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
  }
  const npmExit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // The first start compiles src/ (prestart), so it may take a while on a busy machine.
  const healthy = async () =>
    fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
  await until('no /health', healthy, 240_000, () => output);
  // node itself, not npm's `sh -c` that may stand between.
  const relay = descendants(npm.pid as number).find((p) => /(^|\/)node$/.test(p.command.split(' ')[0] ?? ''));
  if (!relay)
    throw new Error(`no relay process under npm: ${JSON.stringify(descendants(npm.pid as number))}`);
  return { npm, npmExit, relay: relay.pid, output: () => output };
}

const stops = [
  { signal: 'SIGTERM', to: 'npm' },
  { signal: 'SIGINT', to: 'npm' },
  { signal: 'SIGINT', to: 'the process group' },
  { signal: 'SIGTERM', to: 'the process group' },
] as const;

describe('npm start', () => {
  it.each(stops)(
    'stops the relay gracefully on $signal to $to, freeing the port and the data directory',
    async ({ signal, to }) => {
      const port = await freePort();
      const { npm, npmExit, relay, output } = await startUnderNpm(['start'], port);
      expect(existsSync(join(dataDir, 'admp.lock'))).toBe(true);

      process.kill(to === 'npm' ? (npm.pid as number) : -(npm.pid as number), signal);
      await until('the relay did not exit', () => !alive(relay), 30_000, output);
      expect(await npmExit).toEqual({ code: 0, signal: null });
      expect(output()).toContain(`"reason":"${signal}"`);
      expect(output()).toContain('"message":"stopped"');
      expect(await portFree(port)).toBe(true);
      expect(existsSync(join(dataDir, 'admp.lock'))).toBe(false);
    },
    300_000,
  );
});

describe('npx admp serve', () => {
  it('stops the relay gracefully when npx gets SIGTERM, though npm’s shell does not pass it on', async () => {
    const port = await freePort();
    const { npm, relay, output } = await startUnderNpm(['exec', '--no', '--', 'admp', 'serve'], port);

    process.kill(npm.pid as number, 'SIGTERM');
    await until('the relay did not exit', () => !alive(relay), 30_000, output);
    expect(output()).toContain('"reason":"parent exited"');
    expect(output()).toContain('"message":"stopped"');
    expect(await portFree(port)).toBe(true);
    expect(existsSync(join(dataDir, 'admp.lock'))).toBe(false);
  }, 300_000);
});
