import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../test/support/postgres-server.js';

export const ADMIN_KEY = 'bench-admin-key-0123456789';

export interface BenchRelay {
  url: string;
  process: ChildProcess;
}

/** Starts a relay the way `npm start` does, on a free port, and waits until /health answers. */
export async function startRelay(env: Record<string, string>): Promise<BenchRelay> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], {
    env: { ...process.env, ...env, PORT: String(port), API_KEY: ADMIN_KEY, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, process: child };
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('the relay did not become healthy within 10 s');
}
