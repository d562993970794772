/** Runs the `admp` command (bin/admp.js, as npm installs it) as a process, for the CLI tests. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/admp.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `admp …args` in `cwd` with only PATH and `env`: never the runner's own ADMP_* variables.
 * `stdin`, when given, is written to the command's standard input.
 */
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
