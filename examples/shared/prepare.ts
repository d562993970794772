/**
 * What the examples need besides the relay: the JS SDK built (they import it by its package name,
 * which resolves to sdk-js/dist), and a Python virtual environment with the Python SDK installed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './embedded-relay.js';

const newest = (dir: string): number =>
  Math.max(
    ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => statSync(join(dir, p)).mtimeMs),
  );

/** Builds @agent-dispatch/client when dist/ is missing or older than its source. */
export function buildJsSdk(): void {
  const built = join(ROOT, 'sdk-js/dist/esm/index.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'sdk-js/src'))) return;
  console.log('examples: building @agent-dispatch/client (sdk-js/dist)');
  execFileSync('npm', ['run', '-s', 'build:sdk-js'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * The Python to run the Python examples with: sdk-py/.venv (as scripts/test-python.sh makes it),
 * created here with the SDK installed in editable mode when it does not exist yet.
 */
export function pythonWithSdk(): string {
  const python = join(ROOT, 'sdk-py/.venv/bin/python');
  if (existsSync(python)) return python;
  console.log('examples: creating sdk-py/.venv with the Python SDK');
  execFileSync(process.env.PYTHON ?? 'python3', ['-m', 'venv', join(ROOT, 'sdk-py/.venv')], {
    stdio: 'inherit',
  });
  execFileSync(
    python,
    ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-e', join(ROOT, 'sdk-py')],
    {
      stdio: 'inherit',
    },
  );
  return python;
}
