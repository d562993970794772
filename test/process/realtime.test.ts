import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../support/ws-client.js';
import {
  createDatabase,
  envelope,
  type RelayProcess,
  registerAgent,
  request,
  sleep,
  spawnRelay,
  stopRelay,
} from './relay-process.js';

// Two relay processes on one PostgreSQL database: what one stores, the other pushes.
let database: Awaited<ReturnType<typeof createDatabase>>;
let one: RelayProcess;
let two: RelayProcess;
let n = 0;

beforeAll(async () => {
  database = await createDatabase();
  const env = { DATABASE_URL: database.url, HEARTBEAT_INTERVAL_SEC: '1' };
  [one, two] = await Promise.all([spawnRelay({ env }), spawnRelay({ env })]);
});
afterAll(async () => {
  await Promise.all([stopRelay(one), stopRelay(two)]);
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
   * Five SENDs through process one to a socket on `socketBase`; each push's delay is measured from
   * its SEND's response. `gapMs` spaces the SENDs out.
   */
  const pushLatencies = async (socketBase: string, gapMs: number) => {
    const [from, to] = await pair();
    const socket = await connect(socketBase, to.id, { token: to.apiKey });
    await socket.next('welcome');
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await send(one.url, from, to.id);
      const answeredAt = performance.now();
      const pushed = await socket.next('message');
      expect(pushed.message.id).toBe(sent.body.message_id);
      latencies.push(pushed.receivedAt - answeredAt);
      socket.send({ type: 'ack', message_id: pushed.message.id });
      if (gapMs > 0) await sleep(gapMs);
    }
    await socket.close();
    return latencies;
  };

  it('pushes within 100 ms of the SEND on the same process', async () => {
    expect(Math.max(...(await pushLatencies(one.url, 0)))).toBeLessThan(100);
  });

  it('pushes within 100 ms of a SEND made through the other process', async () => {
    expect(Math.max(...(await pushLatencies(two.url, 50)))).toBeLessThan(100);
  });

  it('ends a long-poll on one process within 100 ms of a SEND through the other', async () => {
    const [from, to] = await pair();
    const polling = request(two.url, 'POST', `/v1/agents/${to.id}/inbox/pull?wait=10`, to.apiKey).then(
      (r) => ({
        r,
        at: performance.now(),
      }),
    );
    await sleep(300);
    const sent = await send(one.url, from, to.id);
    const answeredAt = performance.now();
    const { r, at } = await polling;
    expect(r).toMatchObject({ status: 200, body: { id: sent.body.message_id } });
    expect(at - answeredAt).toBeLessThan(100);
  });

  it('redelivers the message of a socket that went silent to a socket on the other process', async () => {
    const [from, to] = await pair();
    const silent = await connect(one.url, to.id, { token: to.apiKey, query: 'visibility_timeout=2' });
    await silent.next('welcome');
    const sent = await send(one.url, from, to.id);
    expect((await silent.next('message')).message.id).toBe(sent.body.message_id);
    const other = await connect(two.url, to.id, { token: to.apiKey });
    await other.next('welcome');
    silent.silence();
    expect(await silent.closed).toBe(4000);
    const redelivered = await other.next('message', 8000);
    expect(redelivered.message).toMatchObject({ id: sent.body.message_id, attempts: 1 });
    await other.close();
  });
});
