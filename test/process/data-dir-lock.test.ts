/** One relay per embedded data directory (ADMP_DATA_DIR), as processes. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  envelope,
  type RelayProcess,
  registerAgent,
  request,
  sleep,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

let dataDir: string;
const started: RelayProcess[] = [];

/** A relay on embedded PGlite in this test's data directory. */
async function start(waitForHealth = true): Promise<RelayProcess> {
  const relay = await spawnRelay({
    env: { DATABASE_URL: undefined, ADMP_DATA_DIR: dataDir },
    waitForHealth,
    healthTimeoutMs: 60_000,
  });
  started.push(relay);
  return relay;
}

async function exited(relay: RelayProcess, ms = 30_000) {
  const exit = await Promise.race([relay.exited, sleep(ms).then(() => 'still running' as const)]);
  if (exit === 'still running') throw new Error(`relay ${relay.pid} still running:\n${relay.stderr()}`);
  return exit;
}

const send = (relay: RelayProcess, from: { id: string; apiKey: string }, to: string) => {
  const message = envelope(from.id, to);
  return request(relay.url, 'POST', `/v1/agents/${to}/messages`, from.apiKey, message).then((r) => ({
    status: r.status,
    id: message.id,
  }));
};

const pull = (relay: RelayProcess, agent: { id: string; apiKey: string }) =>
  request(relay.url, 'POST', `/v1/agents/${agent.id}/inbox/pull`, agent.apiKey);

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'admp-lock-'));
});
afterEach(async () => {
  // The relays first: a data directory is removed only once nothing has it open.
  await Promise.all(started.splice(0).map(stopRelay));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a second relay on the same data directory', () => {
  it('is refused, naming the directory and the pid holding it, while the first serves on with nothing lost', async () => {
    const first = await start();
    const sender = await registerAgent(first.url, 'lock.sender');
    const receiver = await registerAgent(first.url, 'lock.receiver');
    const before = await send(first, sender, receiver.id);
    expect(before.status).toBe(201);

    const second = await start(false);
    const exit = await exited(second);
    expect(exit, second.stderr()).toEqual({ code: 1, signal: null });
    expect(second.stderr()).toContain(
      `ADMP_DATA_DIR ${dataDir} is in use by another relay (pid ${first.pid} `,
    );

    const after = await send(first, sender, receiver.id);
    expect(after.status).toBe(201);
    const pulled = [await pull(first, receiver), await pull(first, receiver)];
    expect(pulled.map((r) => [r.status, r.body.id])).toEqual([
      [200, before.id],
      [200, after.id],
    ]);
    expect((await pull(first, receiver)).status).toBe(204);

    // A graceful stop gives the directory back.
    first.kill('SIGTERM');
    expect(await exited(first)).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'admp.lock'))).toBe(false);
  }, 180_000);
});

describe('a relay killed with SIGKILL', () => {
  it('leaves a lock that does not stop the next relay, which finds its messages', async () => {
    const first = await start();
    const sender = await registerAgent(first.url, 'kill.sender');
    const receiver = await registerAgent(first.url, 'kill.receiver');
    const sent = await send(first, sender, receiver.id);
    expect(sent.status).toBe(201);
    first.kill('SIGKILL');
    expect((await exited(first)).signal).toBe('SIGKILL');
    expect(JSON.parse(readFileSync(join(dataDir, 'admp.lock'), 'utf8')).pid).toBe(first.pid);

    const second = await start();
    expect(JSON.parse(readFileSync(join(dataDir, 'admp.lock'), 'utf8')).pid).toBe(second.pid);
    const pulled = await pull(second, receiver);
    expect(pulled.status).toBe(200);
    expect(pulled.body.id).toBe(sent.id);
  }, 180_000);
});
