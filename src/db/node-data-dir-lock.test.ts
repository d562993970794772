import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './node-data-dir-lock.js';

let dir: string;
let other: ChildProcess | undefined;
const lockFile = () => join(dir, 'admp.lock');

/** Field 22 of /proc/<pid>/stat, as the lock records it. */
const startTime = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};

/** A live process that is not this one, to stand for another relay. */
async function anotherProcess(): Promise<number> {
  other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => other?.once('spawn', resolve));
  return other.pid as number;
}

const holder = (pid: number, started?: string) =>
  `${JSON.stringify({ pid, started, host: 'elsewhere', since: '2026-01-01T00:00:00.000Z' })}\n`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'admp-lock-'));
});
afterEach(() => {
  other?.kill('SIGKILL');
  other = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('the data directory lock', () => {
  it('records this process in the directory and removes the record on release', async () => {
    const lock = await lockDataDir(dir);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('refuses a directory another live process holds, naming the directory and its pid', async () => {
    const pid = await anotherProcess();
    writeFileSync(lockFile(), holder(pid, startTime(pid)));
    const refused = await lockDataDir(dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect((refused as Error).message).toContain(dir);
    expect((refused as Error).message).toContain(`pid ${pid} on elsewhere`);
    expect(readFileSync(lockFile(), 'utf8')).toBe(holder(pid, startTime(pid)));
  });

  it('refuses a second lock on the same directory within one process', async () => {
    const lock = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toBeInstanceOf(DataDirLockedError);
    lock.release();
    (await lockDataDir(dir)).release();
  });

  it('takes over a lock whose process has died, as after kill -9', async () => {
    const pid = await anotherProcess();
    const started = startTime(pid);
    other?.kill('SIGKILL');
    await new Promise((resolve) => other?.once('exit', resolve));
    writeFileSync(lockFile(), holder(pid, started));
    const lock = await lockDataDir(dir);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to a process that started later', async () => {
    const pid = await anotherProcess();
    writeFileSync(lockFile(), holder(pid, '1'));
    (await lockDataDir(dir)).release();
  });

  it('takes over a lock naming this very pid, left by an earlier process (pid 1 in a container)', async () => {
    writeFileSync(lockFile(), holder(process.pid, '1'));
    (await lockDataDir(dir)).release();
  });

  it('takes over a lock file that holds no pid', async () => {
    writeFileSync(lockFile(), 'not a lock\n');
    (await lockDataDir(dir)).release();
    expect(existsSync(lockFile())).toBe(false);
  });
});
