/**
 * `npm run example`: starts one embedded relay, runs every example against it one after another,
 * prints a pass/fail line per example with its duration, stops the relay, and exits 1 if any
 * example failed. `npm run example -- orchestration` runs only the examples whose name matches;
 * `--verbose` prints every example's output, not only a failing one's.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, startRelay } from './shared/embedded-relay.js';
import { buildJsSdk, pythonWithSdk } from './shared/prepare.js';

interface Example {
  name: string;
  command: () => [string, string[]];
}

const tsx = (file: string) => (): [string, string[]] => [
  process.execPath,
  ['--import', 'tsx', join(ROOT, file)],
];

const EXAMPLES: Example[] = [
  { name: 'request-response (TypeScript)', command: tsx('examples/request-response/ts/main.ts') },
  {
    name: 'request-response (Python)',
    command: () => [pythonWithSdk(), [join(ROOT, 'examples/request-response/python/main.py')]],
  },
  { name: 'task-orchestration', command: tsx('examples/task-orchestration/main.ts') },
  { name: 'detach-integration', command: tsx('examples/detach-integration/main.ts') },
  { name: 'mcp-pair', command: tsx('examples/mcp-pair/main.ts') },
];

// An example stops itself after 60 s; this is the backstop for one that cannot.
const EXAMPLE_TIMEOUT_MS = 120_000;

function runOne(example: Example, env: NodeJS.ProcessEnv): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    let command: [string, string[]];
    try {
      command = example.command();
    } catch (error) {
      resolve({ ok: false, output: `cannot start: ${(error as Error).message}` });
      return;
    }
    const child = spawn(command[0], command[1], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXAMPLE_TIMEOUT_MS);
    child.on('error', (error) => (output += `\n${error.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, output: signal ? `${output}\nkilled by ${signal}` : output });
    });
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const filters = args.filter((arg) => !arg.startsWith('--'));
  const chosen = EXAMPLES.filter((e) => filters.length === 0 || filters.some((f) => e.name.includes(f)));
  if (chosen.length === 0) {
    console.error(`examples: nothing matches ${filters.join(' ')}`);
    return 2;
  }

  buildJsSdk();
  const started = Date.now();
  const relay = await startRelay();
  console.log(`examples: relay on ${relay.url} (PGlite, started in ${Date.now() - started} ms)`);
  const env = { ...process.env, ADMP_URL: relay.url, ADMP_API_KEY: relay.adminKey };

  let failed = 0;
  try {
    for (const example of chosen) {
      const t0 = Date.now();
      const { ok, output } = await runOne(example, env);
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`${ok ? 'PASS' : 'FAIL'}  ${example.name}  (${seconds} s)`);
      if (!ok || verbose) console.log(output.replace(/^/gm, '      '));
      if (!ok) failed++;
    }
  } finally {
    await relay.stop();
  }
  if (failed > 0) {
    console.log(`examples: ${failed} of ${chosen.length} failed; the relay's log:`);
    console.log(relay.output().replace(/^/gm, '      '));
  } else console.log(`examples: all ${chosen.length} passed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`examples: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
