import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../support/ws-client.js';
import {
  ADMIN_KEY,
  createDatabase,
  envelope,
  type RelayProcess,
  registerAgent,
  request,
  sleep,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

// Relay processes on one PostgreSQL database: what one stores, the other pushes. `one` and `two`
// keep the default 30 s heartbeat: every tick also looks for work, so a push that comes before the
// first ping was woken by the SEND (through LISTEN/NOTIFY across processes), not found by a tick.
// `brisk` pings every second, for the test of a socket that stops answering.
let database: Awaited<ReturnType<typeof createDatabase>>;
let one: RelayProcess;
let two: RelayProcess;
let brisk: RelayProcess;
let n = 0;

beforeAll(async () => {
  database = await createDatabase();
  const env = { DATABASE_URL: database.url };
  [one, two, brisk] = await Promise.all([
    spawnRelay({ env }),
    spawnRelay({ env }),
    spawnRelay({ env: { ...env, HEARTBEAT_INTERVAL_SEC: '1' } }),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all([stopRelay(one), stopRelay(two), stopRelay(brisk)]);
  await database?.drop();
});

const pair = async () => {
  n += 1;
  return [
    await registerAgent(one.url, `xp.sender-${n}`),
    await registerAgent(one.url, `xp.receiver-${n}`),
  ] as const;
};

const send = (base: string, from: { id: string; apiKey: string }, to: string) =>
  request(base, 'POST', `/v1/agents/${to}/messages`, from.apiKey, envelope(from.id, to));

describe('realtime across relay processes', () => {
  /**
   * Five SENDs through process one to a socket on `socketBase`, each pushed in turn before any
   * heartbeat tick. `gapMs` spaces the SENDs out.
   */
  const expectPushes = async (socketBase: string, gapMs: number) => {
    const [from, to] = await pair();
    const socket = await connect(socketBase, to.id, { token: to.apiKey });
    expect(await socket.next('welcome')).toMatchObject({ heartbeat_interval_sec: 30 });
    for (let i = 0; i < 5; i++) {
      const sent = await send(one.url, from, to.id);
      const pushed = await socket.next('message');
      expect(pushed.message.id).toBe(sent.body.message_id);
      socket.send({ type: 'ack', message_id: pushed.message.id });
      if (gapMs > 0) await sleep(gapMs);
    }
    expect(socket.pending(), 'pushed before any heartbeat tick').not.toContainEqual(
      expect.objectContaining({ type: 'ping' }),
    );
    await socket.close();
  };

  it('pushes each SEND to a socket on the same process as it is stored', async () => {
    await expectPushes(one.url, 0);
  });

  it('pushes each SEND made through the other process as it is stored', async () => {
    await expectPushes(two.url, 50);
  });

  it('ends a long-poll on one process when a SEND comes through the other, before its wait runs out', async () => {
    const [from, to] = await pair();
    // A wait no busy machine uses up first: an answer before its end was woken, not timed out.
    const waitSec = 20;
    const started = performance.now();
    const polling = request(two.url, 'POST', `/v1/agents/${to.id}/inbox/pull?wait=${waitSec}`, to.apiKey);
    await sleep(300);
    const sent = await send(one.url, from, to.id);
    expect(await polling).toMatchObject({ status: 200, body: { id: sent.body.message_id } });
    expect(performance.now() - started, 'woken through LISTEN/NOTIFY').toBeLessThan(waitSec * 1000);
  });

  it('pushes a delayed SEND made through the other process when it is due, not before, within 1 s', async () => {
    const [from, to] = await pair();
    const socket = await connect(two.url, to.id, { token: to.apiKey });
    await socket.next('welcome');
    const sent = await request(
      one.url,
      'POST',
      `/v1/agents/${to.id}/messages?delay=2`,
      from.apiKey,
      envelope(from.id, to.id),
    );
    expect(sent.status).toBe(201);
    const status = await request(one.url, 'GET', `/v1/messages/${sent.body.message_id}/status`, ADMIN_KEY);
    const availableAt = Date.parse(status.body.available_at);
    // Process two learnt the time from one's notification and woke its socket by its own timer.
    const pushed = await socket.next('message');
    const arrivedAt = performance.timeOrigin + pushed.receivedAt;
    expect(pushed.message.id).toBe(sent.body.message_id);
    expect(arrivedAt).toBeGreaterThanOrEqual(availableAt);
    expect(arrivedAt - availableAt).toBeLessThan(1000);
    await socket.close();
  });

  it('redelivers the message of a socket that went silent to a socket on the other process', {
    timeout: 60_000,
  }, async () => {
    const [from, to] = await pair();
    // The lease outlasts the two missed heartbeats that close the silent socket, so the message is
    // redelivered only once that socket is gone, never to it again.
    const silent = await connect(brisk.url, to.id, { token: to.apiKey, query: 'visibility_timeout=10' });
    await silent.next('welcome');
    const sent = await send(one.url, from, to.id);
    expect((await silent.next('message')).message.id).toBe(sent.body.message_id);
    silent.silence();
    const other = await connect(two.url, to.id, { token: to.apiKey });
    await other.next('welcome');
    expect(await silent.closed).toBe(4000);
    const redelivered = await other.next('message', 30_000);
    expect(redelivered.message).toMatchObject({ id: sent.body.message_id, attempts: 1 });
    await other.close();
  });
});
