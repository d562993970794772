import { beforeEach, describe, expect, it } from 'vitest';
import { type ADMPClient, NotFoundError, TimeoutError } from '../src/index.js';
import { must, sharedRelay } from './support/live-relay.js';

const live = sharedRelay();
let sender: ADMPClient;
let worker: ADMPClient;

beforeEach(async () => {
  sender = await live.client('asker');
  worker = await live.client('answerer');
});

const task = (subject: string, body: Record<string, unknown> = {}) => ({
  to: worker.agentId,
  type: 'task.request' as const,
  subject,
  body,
});

/** A task.request from the worker already waiting in the sender's inbox, unrelated to any wait. */
const unrelatedWork = () =>
  worker.send({ to: sender.agentId, type: 'task.request', subject: 'unrelated', body: { n: 1 } });

describe('waitForReply', () => {
  it('returns the reply by the request id, neither leased nor acked: it stays in the inbox', async () => {
    const id = await sender.send(task('lookup'));
    const waiting = sender.waitForReply(id, { timeoutMs: 15_000 });
    const replyId = await worker.reply(must(await worker.pull()), { result: { user_id: 42 } });
    const reply = await waiting;
    expect(reply).toMatchObject({
      id: replyId,
      type: 'task.result',
      to: `agent://${sender.agentId}`,
      correlation_id: id,
      body: { user_id: 42 },
      status: 'delivered',
      attempts: 0,
    });
    expect((await sender.status(id)).status).toBe('acked');
    expect((await sender.status(replyId)).status).toBe('delivered');
    const pulled = await sender.pull();
    expect(pulled).toMatchObject({ id: replyId, attempts: 0 });
    await sender.ack(must(pulled));
  });

  it('leaves an unrelated message pullable, attempts unchanged, when it times out', async () => {
    const unrelated = await unrelatedWork();
    const id = await sender.send(task('never answered'));
    const err = await sender.waitForReply(id, { timeoutMs: 2_500 }).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe('timeout');
    expect(await sender.status(unrelated)).toMatchObject({ status: 'delivered', attempts: 0 });
    expect(await sender.pull()).toMatchObject({ id: unrelated, attempts: 0 });
  });

  it('leaves an unrelated message pullable, attempts unchanged, when the reply comes', async () => {
    const unrelated = await unrelatedWork();
    const id = await sender.send(task('answered'));
    const waiting = sender.waitForReply(id, { timeoutMs: 15_000 });
    // Let the wait look a few times before the answer exists.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const replyId = await worker.reply(must(await worker.pull()), { result: { ok: true } });
    expect((await waiting).id).toBe(replyId);
    expect(await sender.pull()).toMatchObject({ id: unrelated, attempts: 0 });
    expect(await sender.pull()).toMatchObject({ id: replyId, attempts: 0 });
  });

  it('finds its reply even when this agent’s own consumer took and acked it first', async () => {
    const id = await sender.send(task('raced'));
    await worker.reply(must(await worker.pull()), { result: { ok: true } });
    const taken = must(await sender.pull({ wait: 10 }));
    await sender.ack(taken);
    expect(await sender.waitForReply(id, { timeoutMs: 15_000 })).toMatchObject({
      id: taken.id,
      status: 'acked',
    });
  });

  it('serves concurrent waits, each its own reply, including a task.error', async () => {
    const ids = await Promise.all([sender.send(task('a')), sender.send(task('b', { n: 2 }))]);
    const waits = ids.map((id) => sender.waitForReply(id, { timeoutMs: 15_000 }));
    const first = must(await worker.pull());
    const second = must(await worker.pull());
    // Answer in reverse order: each wait must still get its own.
    await worker.reply(second, { error: { code: 'nope', message: 'cannot' } });
    await worker.reply(first, { result: { ok: true } });
    const [ra, rb] = await Promise.all(waits);
    expect(ra).toMatchObject({ correlation_id: first.id, type: 'task.result' });
    expect(rb).toMatchObject({ correlation_id: second.id, type: 'task.error' });
  });

  it('follows a correlation id the request carried, skipping replies that came before the request', async () => {
    const conversation = `conv-${crypto.randomUUID()}`;
    await sender.send({ ...task('turn 1'), correlationId: conversation });
    await worker.reply(must(await worker.pull()), { result: { turn: 1 } });
    const id = await sender.send({ ...task('turn 2'), correlationId: conversation });
    const waiting = sender.waitForReply(id, { timeoutMs: 15_000 });
    await worker.reply(must(await worker.pull()), { result: { turn: 2 } });
    expect(await waiting).toMatchObject({ correlation_id: conversation, body: { turn: 2 } });
  });

  it('is NotFoundError for a message this agent never sent', async () => {
    await expect(sender.waitForReply(crypto.randomUUID(), { timeoutMs: 1_000 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
