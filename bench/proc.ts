/**
 * CPU time and memory of other processes, read from /proc (Linux only), so a leg can say what the
 * relay and PostgreSQL spent on it rather than what the machine as a whole did.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const MS_PER_TICK = 1000 / TICKS_PER_SECOND;

interface Stat {
  readonly ppid: number;
  /** utime + stime of the process itself. */
  readonly own: number;
  /** cutime + cstime: what its children used before they exited and were reaped. */
  readonly reaped: number;
}

/** undefined when the process is gone (or was never there). */
function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (i: number) => Number(fields[i]);
  return { ppid: field(1), own: field(11) + field(12), reaped: field(13) + field(14) };
}

/** CPU milliseconds a process and its reaped children have used since they started. */
export function processCpuMs(pid: number): number {
  const stat = readStat(pid);
  return stat ? (stat.own + stat.reaped) * MS_PER_TICK : 0;
}

/**
 * CPU milliseconds used by a PostgreSQL server: the postmaster, every live child (backends,
 * WAL writer, checkpointer, autovacuum), and the children that already exited, which the
 * postmaster's reaped time holds. A backend that exits mid-leg moves from the one sum to the
 * other without changing the total.
 */
export function postgresCpuMs(postmaster: number): number {
  const root = readStat(postmaster);
  if (!root) return 0;
  let ticks = root.own + root.reaped;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === postmaster) ticks += stat.own;
  }
  return ticks * MS_PER_TICK;
}

/** The postmaster is the parent of every backend, so one backend's pid leads to it. */
export function parentPid(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is not in /proc`);
  return stat.ppid;
}

export interface Memory {
  /** Resident set size now, in MiB. */
  readonly rssMiB: number;
  /** The highest resident set size since the process started, in MiB. */
  readonly peakMiB: number;
}

export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

/** CPU milliseconds this process (the load generator) has used. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
