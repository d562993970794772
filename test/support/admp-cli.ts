/**
 * Runs the `admp` command for the CLI tests: in this process through `runCli` (what bin/admp.js
 * runs, with the files, stdin and environment handed to it), or as a process through bin/admp.js,
 * as npm installs it, where the process itself is under test (exit codes, signals, stdio).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { runCli } from '../../src/cli/main.js';

const BIN = fileURLToPath(new URL('../../bin/admp.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `admp …args` in this process, as if run in `cwd` with only PATH and `env` (never the runner's
 * own ADMP_* variables); `stdin`, when given, is what `-` reads. An error that is not the
 * command's own ends it with 1 and its text on stderr, as bin/admp.js does.
 */
export async function admpInProcess(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  stdin?: string,
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  try {
    const code = await runCli(args, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      env: { PATH: process.env.PATH, ...env },
      readText: (path) => (path === '-' ? (stdin ?? '') : readFileSync(resolve(cwd, path), 'utf8')),
      onInterrupt: () => {},
    });
    return { code, stdout, stderr };
  } catch (error) {
    return { code: 1, stdout, stderr: `${stderr}${inspect(error)}\n` };
  }
}

/** `admp …args` as a process in `cwd`, with only PATH and `env`; `stdin` is written to its input. */
export function runAdmp(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  stdin?: string,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      // Generous: a stuck command is killed; a slow start on a busy machine is not.
      { cwd, env: { PATH: process.env.PATH, ...env }, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error ? (error as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
