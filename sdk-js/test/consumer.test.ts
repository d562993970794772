import { beforeAll, describe, expect, it } from 'vitest';
import type { ADMPClient, Message } from '../src/index.js';
import { sharedRelay } from './support/live-relay.js';

// The consumer loop over long-poll PULL; realtime.test.ts covers the same contract over the WebSocket.
const live = sharedRelay();
let sender: ADMPClient;
const poll = { transport: 'poll' as const, wait: 1 };

beforeAll(async () => {
  sender = await live.client('producer');
});

async function inboxWith(subjects: string[]): Promise<{ inbox: ADMPClient; ids: string[] }> {
  const inbox = await live.client('consumer');
  const ids: string[] = [];
  for (const subject of subjects) {
    ids.push(await sender.send({ to: inbox.agentId, type: 'event', subject, body: { subject } }));
  }
  return { inbox, ids };
}

describe('messages()', () => {
  it('yields the inbox in send order and ACKs each message when the loop body completes', async () => {
    const { inbox, ids } = await inboxWith(['1', '2', '3']);
    const seen: string[] = [];
    for await (const msg of inbox.messages(poll)) {
      seen.push(msg.id);
      if (seen.length === 3) {
        await inbox.ack(msg); // finished: settle it before leaving, as the README says
        break;
      }
    }
    expect(seen).toEqual(ids);
    for (const id of ids) expect((await inbox.status(id)).status).toBe('acked');
  });

  it('NACKs the message when the loop body throws, so it is delivered again', async () => {
    const { inbox, ids } = await inboxWith(['boom']);
    await expect(async () => {
      for await (const _msg of inbox.messages(poll)) throw new Error('handler failed');
    }).rejects.toThrow('handler failed');
    expect(await inbox.status(ids[0] as string)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('NACKs the message on break (the first test shows ack-then-break)', async () => {
    const { inbox, ids } = await inboxWith(['left', 'kept']);
    for await (const _msg of inbox.messages(poll)) break;
    expect(await inbox.status(ids[0] as string)).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});

describe('subscribe()', () => {
  it('ACKs what the handler finished, NACKs what it threw on, and leaves what it replied to', async () => {
    const { inbox, ids } = await inboxWith(['ok', 'fail', 'answer']);
    const errors: unknown[] = [];
    const handled: Message[] = [];
    const done = new Promise<void>((resolve) => {
      const sub = inbox.subscribe(
        async (msg) => {
          handled.push(msg);
          if (msg.subject === 'fail' && msg.attempts === 0) throw new Error('try again');
          if (msg.subject === 'answer') await inbox.reply(msg, { result: { done: true } });
          if (handled.length === 4) void sub.close().then(resolve);
        },
        { ...poll, onError: (e) => errors.push(e) },
      );
    });
    await done;
    expect(handled.map((m) => `${m.subject}:${m.attempts}`)).toEqual([
      'ok:0',
      'fail:0',
      'fail:1',
      'answer:0',
    ]);
    for (const id of ids) expect((await inbox.status(id)).status).toBe('acked');
    // Only the handler's own throw was reported; the reply was not settled a second time.
    expect(errors.map((e) => (e as Error).message)).toEqual(['try again']);
    expect(await sender.pull()).toMatchObject({ type: 'task.result', body: { done: true } });
  });

  it('close() lets the message in hand finish and be ACKed', async () => {
    const { inbox, ids } = await inboxWith(['slow']);
    let started!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      started = resolve;
    });
    let finished = false;
    const sub = inbox.subscribe(async () => {
      started();
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    }, poll);
    await inHandler;
    await sub.close();
    expect(finished).toBe(true);
    expect((await inbox.status(ids[0] as string)).status).toBe('acked');
  });
});
