/** A graceful stop with a consumer waiting in a long-poll PULL. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createDatabase,
  type RelayProcess,
  registerAgent,
  request,
  sleep,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

let database: Awaited<ReturnType<typeof createDatabase>>;
let relay: RelayProcess | undefined;

beforeAll(async () => {
  database = await createDatabase();
});
afterAll(async () => {
  await stopRelay(relay);
  await database?.drop();
});

it('answers a waiting long-poll PULL with 204 on SIGTERM and exits 0 instead of timing out', async () => {
  // The poll's 20 s are longer than the 10 s a shutdown waits for open requests: held to its end,
  // it would be cut by the forced exit (code 1).
  relay = await spawnRelay({ env: { DATABASE_URL: database.url, SHUTDOWN_TIMEOUT_SEC: '10' } });
  const consumer = await registerAgent(relay.url, 'poll.consumer');
  const answered = fetch(`${relay.url}/v1/agents/${consumer.id}/inbox/pull?wait=20`, {
    method: 'POST',
    headers: { authorization: `Bearer ${consumer.apiKey}` },
  });
  // Time for the PULL to reach its wait (milliseconds on an idle relay); it must still be open.
  await sleep(2_000);
  const pending = Symbol('pending');
  expect(await Promise.race([answered, Promise.resolve(pending)])).toBe(pending);
  const stats = await request(relay.url, 'GET', `/v1/agents/${consumer.id}/inbox/stats`, consumer.apiKey);
  expect(stats.body).toMatchObject({ ready: 0, leased: 0 });

  relay.kill('SIGTERM');
  const response = await answered;
  expect(response.status).toBe(204);
  expect(response.headers.get('connection')).toBe('close');
  expect(await relay.exited).toEqual({ code: 0, signal: null });
  expect(relay.stderr() + relay.stdout()).not.toContain('shutdown timed out');
});
