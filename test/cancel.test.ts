import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './support/expect-error.js';
import { type Agent, envelope, startTestRelay, type TestRelay } from './support/relay.js';

let relay: TestRelay;
let sender: Agent;
let stranger: Agent;
let n = 0;

beforeAll(async () => {
  relay = await startTestRelay({ AUDIT_MESSAGES: 'false' });
  sender = await relay.registerAgent('cancel-sender');
  stranger = await relay.registerAgent('cancel-stranger');
});
afterAll(() => relay.close());

const freshInbox = () => relay.registerAgent(`cancel-inbox-${++n}`);

const cancel = (id: string, token?: string | null) => relay.call('DELETE', `/v1/messages/${id}`, { token });
const statusOf = async (id: string) => (await relay.call('GET', `/v1/messages/${id}/status`)).body.status;

describe('cancel', () => {
  it('cancels a delivered message for its sender: never pulled, not counted, audited and counted', async () => {
    const inbox = await freshInbox();
    const { message_id: id } = (await relay.send(sender, inbox.id)).body;
    const r = await cancel(id, sender.apiKey);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'cancelled' });
    expect(await statusOf(id)).toBe('cancelled');
    expect((await relay.pull(inbox)).status).toBe(204);
    expect(await relay.stats(inbox)).toEqual({ ready: 0, leased: 0, dead: 0, oldest_age_sec: 0 });
    await relay.deps.audit.flush();
    const audit = (await relay.db.execute(
      `select event, agent_id, detail from audit_log where message_id = '${id}'`,
    )) as unknown as { rows: { event: string; agent_id: string; detail: any }[] };
    expect(audit.rows).toEqual([
      { event: 'message.cancelled', agent_id: inbox.id, detail: { from: sender.id } },
    ]);
    expect((await relay.metrics()).sum('admp_messages_cancelled_total', { agent_id: inbox.id })).toBe(1);
  });

  it('cancels a delayed message before it is due', async () => {
    const inbox = await freshInbox();
    const r = await relay.call('POST', `/v1/agents/${inbox.id}/messages?delay=60`, {
      token: sender.apiKey,
      body: envelope(sender.id, inbox.id),
    });
    expect((await cancel(r.body.message_id, sender.apiKey)).status).toBe(200);
  });

  it('is 409 invalid_state once leased, acked or already cancelled', async () => {
    const inbox = await freshInbox();
    const { message_id: id } = (await relay.send(sender, inbox.id)).body;
    const pulled = await relay.pull(inbox);
    expectError(await cancel(id, sender.apiKey), 409, 'invalid_state');
    await relay.ack(inbox, id, pulled.body.lease_id);
    expectError(await cancel(id, sender.apiKey), 409, 'invalid_state');
    expect(await statusOf(id)).toBe('acked');
    const { message_id: twice } = (await relay.send(sender, inbox.id)).body;
    expect((await cancel(twice)).status).toBe(200);
    expectError(await cancel(twice), 409, 'invalid_state');
  });

  it('lets the admin cancel any message; the recipient and strangers get 404, as for an unknown id', async () => {
    const inbox = await freshInbox();
    const { message_id: id } = (await relay.send(sender, inbox.id)).body;
    expectError(await cancel(id, inbox.apiKey), 404, 'not_found');
    expectError(await cancel(id, stranger.apiKey), 404, 'not_found');
    expectError(await cancel(crypto.randomUUID(), sender.apiKey), 404, 'not_found');
    expectError(await cancel('not-a-uuid', sender.apiKey), 404, 'not_found');
    expectError(await cancel(id, null), 401, 'unauthorized');
    expect(await statusOf(id)).toBe('delivered');
    expect((await cancel(id)).status).toBe(200);
  });

  it('races PULL safely: either the cancel wins and nobody gets the message, or the PULL wins and the cancel is 409', async () => {
    const inbox = await freshInbox();
    const outcomes = { cancelled: 0, pulled: 0 };
    for (let round = 0; round < 20; round++) {
      const { message_id: id } = (await relay.send(sender, inbox.id)).body;
      const [cancelled, pulled] = await Promise.all([cancel(id, sender.apiKey), relay.pull(inbox)]);
      if (cancelled.status === 200) {
        outcomes.cancelled++;
        expect(pulled.status).toBe(204);
        expect(await statusOf(id)).toBe('cancelled');
      } else {
        outcomes.pulled++;
        expectError(cancelled, 409, 'invalid_state');
        expect(pulled.body.id).toBe(id);
        expect(await statusOf(id)).toBe('leased');
        await relay.ack(inbox, id, pulled.body.lease_id);
      }
    }
    expect(outcomes.cancelled + outcomes.pulled).toBe(20);
    // Whatever the split, nothing is left to pull.
    expect((await relay.pull(inbox)).status).toBe(204);
  });
});

describe('message ids in paths', () => {
  it('answers 404 not_found, not 422, for a message id that is not a UUID in every {mid} path', async () => {
    const inbox = await freshInbox();
    const as = { token: inbox.apiKey };
    const paths: [string, string, unknown?][] = [
      ['GET', '/v1/messages/not-a-uuid/status'],
      ['DELETE', '/v1/messages/not-a-uuid'],
      ['POST', `/v1/agents/${inbox.id}/messages/not-a-uuid/ack`],
      ['POST', `/v1/agents/${inbox.id}/messages/not-a-uuid/nack`],
      ['POST', `/v1/agents/${inbox.id}/messages/not-a-uuid/reply`, { result: {} }],
      ['DELETE', `/v1/agents/${inbox.id}/dead-letters/not-a-uuid`],
    ];
    for (const [method, path, body] of paths) {
      const r = await relay.call(method, path, { ...as, ...(body ? { body } : {}) });
      expect({ path, status: r.status, code: r.body.error.code }).toEqual({
        path,
        status: 404,
        code: 'not_found',
      });
    }
  });
});
