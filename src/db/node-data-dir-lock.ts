import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

// PGlite is PostgreSQL in this process's memory, writing to a directory: a second process on the
// same directory would serve its own diverging copy of the data and corrupt the files underneath
// both. A pid file created with O_EXCL keeps it to one relay. Lock libraries that decide staleness
// by age would refuse a restart after `kill -9` until the lock times out and cannot name the
// holder, so this checks whether the holder is still alive instead.
const LOCK_FILE = 'admp.lock';

interface Holder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken for it. */
  started?: string;
  host: string;
  since: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: Holder,
  ) {
    super(
      `ADMP_DATA_DIR ${dir} is in use by another relay (pid ${holder.pid} on ${holder.host}, since ${holder.since}).\n` +
        'One embedded database serves one relay: stop that one first, give this one its own ADMP_DATA_DIR,\n' +
        'or run several relays on one PostgreSQL server with DATABASE_URL.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** Removes the lock if it is still this process's; safe to call twice. */
  release(): void;
}

// Directories this process holds: its own pid in a lock file means "stale" only for others.
const held = new Set<string>();

/** Field 22 of /proc/<pid>/stat: when the process started. Undefined where there is no /proc. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses, so count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(holder: Holder): boolean {
  // Our own pid written by someone else: a previous life of this pid, e.g. pid 1 in a container.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(holder.pid);
  return !(holder.started && now && now !== holder.started);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function parse(text: string): Holder | undefined {
  try {
    const holder = JSON.parse(text) as Holder;
    return Number.isInteger(holder.pid) && holder.pid > 0 ? holder : undefined;
  } catch {
    return undefined;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: whoever removed it judged it as we did.
  }
}

function create(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes `dir` for this process until release() or exit, or throws DataDirLockedError naming the
 * live process that has it. A lock left by a process that died is taken over.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const absolute = resolve(dir);
  const path = join(absolute, LOCK_FILE);
  const me: Holder = {
    pid: process.pid,
    started: startTime(process.pid),
    host: hostname(),
    since: new Date().toISOString(),
  };
  const text = `${JSON.stringify(me)}\n`;
  if (held.has(absolute)) throw new DataDirLockedError(absolute, me);

  for (let attempt = 0; ; attempt++) {
    if (create(path, text)) break;
    if (attempt >= 5) throw new Error(`cannot lock ${absolute}: ${path} keeps coming back`);
    const found = readText(path);
    if (found === undefined) continue; // released between our two looks
    let holder = parse(found);
    if (!holder) {
      // Another relay may be between creating the file and writing its pid.
      await new Promise((done) => setTimeout(done, 200));
      holder = parse(readText(path) ?? '');
    }
    if (holder && isAlive(holder)) throw new DataDirLockedError(absolute, holder);
    // Stale. Remove it only if it is still the file we judged, not one a rival just wrote.
    if (readText(path) === found) unlinkQuietly(path);
  }

  held.add(absolute);
  const release = () => {
    process.off('exit', release);
    if (!held.delete(absolute)) return;
    if (readText(path) === text) unlinkQuietly(path);
  };
  // Any exit that runs JavaScript (process.exit, an uncaught error) frees the directory; a kill -9
  // leaves a file the next start recognises as stale.
  process.on('exit', release);
  return { release };
}
