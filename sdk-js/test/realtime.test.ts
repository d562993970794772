import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMPClient, type Message, type WebSocketConstructor } from '../src/index.js';
import { LiveRelay } from './support/live-relay.js';

// A relay of its own: it pings every second (so heartbeats show within a test) and is restarted
// on the same port and data to show reconnection.
const live = new LiveRelay({ HEARTBEAT_INTERVAL_SEC: '1' });
let sender: ADMPClient;

beforeAll(async () => {
  await live.start();
  sender = await live.client('rt-sender');
}, 120_000);
afterAll(() => live.dispose());

/** The ws package, counting the connections the SDK opens. */
function countingWebSocket() {
  const counter = { opened: 0 };
  class Counting extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      counter.opened++;
    }
  }
  return { counter, WebSocket: Counting as unknown as WebSocketConstructor };
}

function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error('condition not met in time'));
      setTimeout(check, 25);
    };
    check();
  });
}

const event = (to: string, subject: string) => ({ to, type: 'event' as const, subject, body: { subject } });

describe('subscribe() over the WebSocket', () => {
  it('receives pushed messages in order, ACKs on return and NACKs on throw', async () => {
    const inbox = await live.client('rt-inbox');
    const seen: string[] = [];
    const sub = inbox.subscribe(async (msg) => {
      seen.push(`${msg.subject}:${msg.attempts}`);
      if (msg.subject === 'b' && msg.attempts === 0) throw new Error('once more');
    });
    await until(() => sub.transport === 'websocket');
    const ids = [await sender.send(event(inbox.agentId, 'a')), await sender.send(event(inbox.agentId, 'b'))];
    await until(() => seen.length === 3);
    await sub.close();
    expect(seen).toEqual(['a:0', 'b:0', 'b:1']);
    for (const id of ids) expect((await inbox.status(id)).status).toBe('acked');
  });

  it('answers the relay’s pings, so one connection outlives several heartbeat intervals', async () => {
    const inbox = await live.client('rt-heartbeat');
    const { counter, WebSocket: Counting } = countingWebSocket();
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: inbox.agentId,
      apiKey: await keyOf(inbox),
      WebSocket: Counting,
    });
    const got: Message[] = [];
    const errors: unknown[] = [];
    const sub = client.subscribe((msg) => void got.push(msg), { onError: (e) => errors.push(e) });
    await until(() => sub.transport === 'websocket');
    // The relay closes a socket that misses pongs for two intervals (2 s here).
    await new Promise((r) => setTimeout(r, 3_500));
    await sender.send(event(inbox.agentId, 'late'));
    await until(() => got.length === 1);
    await sub.close();
    expect(counter.opened).toBe(1);
    expect(errors).toEqual([]);
  });

  it('signs the upgrade with HMAC headers', async () => {
    const agent = await live.register('rt-hmac');
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: agent.agentId,
      hmacSecret: agent.hmacSecret,
    });
    const got: string[] = [];
    const sub = client.subscribe((msg) => void got.push(msg.subject), { transport: 'websocket' });
    await until(() => sub.transport === 'websocket');
    await sender.send(event(agent.agentId, 'signed-upgrade'));
    await until(() => got.length === 1);
    await sub.close();
    expect(got).toEqual(['signed-upgrade']);
  });

  it('feeds messages() from the socket and ACKs each finished body', async () => {
    const inbox = await live.client('rt-iter');
    const ids = [await sender.send(event(inbox.agentId, '1')), await sender.send(event(inbox.agentId, '2'))];
    const seen: string[] = [];
    for await (const msg of inbox.messages({ transport: 'websocket' })) {
      seen.push(msg.id);
      if (seen.length === 2) {
        await inbox.ack(msg);
        break;
      }
    }
    expect(seen).toEqual(ids);
    for (const id of ids) expect((await inbox.status(id)).status).toBe('acked');
  });

  it('reconnects after the relay restarts and goes on receiving', async () => {
    const inbox = await live.client('rt-restart');
    const { counter, WebSocket: Counting } = countingWebSocket();
    const client = new ADMPClient({
      relayUrl: live.url,
      agentId: inbox.agentId,
      apiKey: await keyOf(inbox),
      WebSocket: Counting,
    });
    const got: string[] = [];
    const sub = client.subscribe((msg) => void got.push(msg.subject), { maxReconnectDelayMs: 1_000 });
    await until(() => sub.transport === 'websocket');
    await sender.send(event(inbox.agentId, 'before'));
    await until(() => got.length === 1);

    await live.restart();
    await sender.send(event(inbox.agentId, 'after'));
    await until(() => got.length === 2, 30_000);
    expect(sub.transport).toBe('websocket');
    await sub.close();
    expect(got).toEqual(['before', 'after']);
    expect(counter.opened).toBeGreaterThanOrEqual(2);
  }, 120_000);
});

// The test client was built with an API key; reuse it for a client with options of our own.
async function keyOf(client: ADMPClient): Promise<string> {
  const credentials = client.credentials;
  if (credentials.kind !== 'apiKey') throw new Error('expected an API-key client');
  return credentials.apiKey;
}
