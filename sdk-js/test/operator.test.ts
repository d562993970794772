import { beforeEach, describe, expect, it } from 'vitest';
import { type ADMPClient, ConflictError, NotFoundError } from '../src/index.js';
import { must, sharedRelay } from './support/live-relay.js';

const live = sharedRelay();
let sender: ADMPClient;
let worker: ADMPClient;

beforeEach(async () => {
  sender = await live.client('ops.sender');
  worker = await live.client('ops.worker');
});

const task = (subject: string) => ({
  to: worker.agentId,
  type: 'task.request' as const,
  subject,
  body: { subject },
});

/** Sends a message and NACKs it until it is dead (the relay's default is 3 attempts). */
async function deadLetter(subject: string): Promise<string> {
  const id = await sender.send(task(subject));
  for (;;) {
    const msg = must(await worker.pull({ wait: 5 }));
    expect(msg.id).toBe(id);
    if ((await worker.nack(msg)).status === 'dead') return id;
  }
}

describe('dead letters', () => {
  it('lists them oldest first a page at a time, redrives some to exactly one puller, purges one', async () => {
    const ids = [await deadLetter('d1'), await deadLetter('d2'), await deadLetter('d3')];
    const first = await worker.deadLetters({ limit: 2 });
    expect(first.messages.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(first.messages[0]).toMatchObject({ status: 'dead', attempts: 3, subject: 'd1' });
    expect(first.messages[0]?.died_at).toEqual(expect.any(String));
    const second = await worker.deadLetters({ limit: 2, cursor: must(first.next_cursor, 'a cursor') });
    expect(second).toMatchObject({ messages: [{ id: ids[2] }], next_cursor: null });

    expect(await worker.redrive([must(ids[0])])).toBe(1);
    const back = must(await worker.pull());
    expect(back).toMatchObject({ id: ids[0], attempts: 0 });
    expect(await worker.pull()).toBeNull();
    await worker.ack(back);

    await worker.purgeDeadLetter(must(ids[1]));
    await expect(worker.purgeDeadLetter(must(ids[1]))).rejects.toBeInstanceOf(NotFoundError);
    expect(await worker.redrive({ all: true })).toBe(1);
    expect(await worker.pull()).toMatchObject({ id: ids[2], attempts: 0 });
  });

  it('shows another agent none of them', async () => {
    const id = await deadLetter('private');
    await expect(sender.redrive([id])).resolves.toBe(0);
    expect((await sender.deadLetters()).messages).toEqual([]);
    await expect(sender.purgeDeadLetter(id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('delay and cancel', () => {
  it('a delayed send is stored now and pulled only from its available_at', async () => {
    const id = await sender.send({ ...task('later'), delaySec: 2 });
    const status = await sender.status(id);
    expect(Date.parse(status.available_at) - Date.parse(status.created_at)).toBeGreaterThanOrEqual(1_900);
    expect(await worker.pull()).toBeNull();
    const msg = must(await worker.pull({ wait: 10 }));
    expect(msg.id).toBe(id);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(status.available_at));
  });

  it('a delayed batch is ready only from its available_at', async () => {
    const results = await sender.sendBatch([task('b1'), task('b2')], { delaySec: 2 });
    expect(results.every((r) => !r.error)).toBe(true);
    expect(await worker.pullBatch({ maxMessages: 10 })).toEqual([]);
    const later = await worker.pullBatch({ maxMessages: 10, wait: 10 });
    expect(later.map((m) => m.id)).toEqual(results.map((r) => r.messageId));
  });

  it('a NACK with delaySec gives the message back only after the back-off', async () => {
    const id = await sender.send(task('back off'));
    const result = await worker.nack(must(await worker.pull()), { delaySec: 2 });
    expect(result).toMatchObject({ status: 'delivered', attempts: 1 });
    expect((await sender.status(id)).available_at).toEqual(expect.any(String));
    expect(await worker.pull()).toBeNull();
    expect(await worker.pull({ wait: 10 })).toMatchObject({ id, attempts: 1 });
  });

  it('cancel stops a message nobody leased; a leased one is ConflictError', async () => {
    const waiting = await sender.send({ ...task('cancel me'), delaySec: 60 });
    await sender.cancel(waiting);
    expect((await sender.status(waiting)).status).toBe('cancelled');

    const leased = await sender.send(task('too late'));
    expect(must(await worker.pull()).id).toBe(leased);
    const err = await sender.cancel(leased).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.code).toBe('invalid_state');
    await expect(worker.cancel(crypto.randomUUID())).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('browsing', () => {
  it('lists the inbox and the sent messages newest first, by status, a page at a time, leasing nothing', async () => {
    const a = await sender.send(task('first'));
    const b = await sender.send(task('second'));
    const c = await sender.send(task('third'));
    const inbox = await worker.listMessages({ limit: 2 });
    expect(inbox.messages.map((m) => m.id)).toEqual([c, b]);
    expect(inbox.messages[0]).toMatchObject({ status: 'delivered', attempts: 0, subject: 'third' });
    const rest = await worker.listMessages({ limit: 2, cursor: must(inbox.next_cursor, 'a cursor') });
    expect(rest).toMatchObject({ messages: [{ id: a }], next_cursor: null });
    expect((await sender.listMessages({ direction: 'sent' })).messages.map((m) => m.id)).toEqual([c, b, a]);

    const leased = must(await worker.pull());
    expect(leased.id).toBe(a);
    const byStatus = await worker.listMessages({ status: 'leased' });
    expect(byStatus.messages.map((m) => m.id)).toEqual([a]);
    expect(await worker.inboxStats()).toMatchObject({ ready: 2, leased: 1 });
  });

  it('shows a thread oldest first to both sides, and to nobody else', async () => {
    const id = await sender.send(task('question'));
    const replyId = await worker.reply(must(await worker.pull()), { result: { answer: 42 } });
    const seen = (await sender.thread(id)).map((m) => [m.id, m.type]);
    expect(seen).toEqual([
      [id, 'task.request'],
      [replyId, 'task.result'],
    ]);
    expect((await worker.thread(id)).map((m) => m.id)).toEqual([id, replyId]);
    const stranger = await live.client('ops.stranger');
    await expect(stranger.thread(id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
