import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../support/expect-error.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

let relay: TestRelay;
let n = 0;
const fresh = () => relay.registerAgent(`session.agent-${++n}`);

// Sessions live two intervals (6 s): short enough to watch one expire, long enough that a busy
// machine's slow request never lets one lapse by accident.
const INTERVAL_SEC = 3;

beforeAll(async () => {
  relay = await startTestRelay({ HEARTBEAT_INTERVAL_SEC: String(INTERVAL_SEC) });
});
afterAll(() => relay.close());

describe('sessions', () => {
  it('registers a session with a unique id, the heartbeat interval and an expiry two intervals out', async () => {
    const agent = await fresh();
    const path = `/v1/agents/${agent.id}/sessions`;
    const before = Date.now();
    const [a, b] = [
      await relay.call('POST', path, { token: agent.apiKey }),
      await relay.call('POST', path, { token: agent.apiKey }),
    ];
    expect(a).toMatchObject({ status: 201, body: { heartbeat_interval_sec: INTERVAL_SEC } });
    expect(a.body.session_id).not.toBe(b.body.session_id);
    const after = Date.now();
    // Two intervals from the moment of the request, however long it took (100 ms of slack for the
    // database's clock and rounding).
    const expires = Date.parse(a.body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 2 * INTERVAL_SEC * 1000 - 100);
    expect(expires).toBeLessThanOrEqual(after + 2 * INTERVAL_SEC * 1000 + 100);
    const got = await relay.call('GET', `/v1/agents/${agent.id}`);
    expect(Date.parse(got.body.last_seen)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('extends a session on heartbeat and moves last_seen', async () => {
    const agent = await fresh();
    const opened = await relay.call('POST', `/v1/agents/${agent.id}/sessions`, { token: agent.apiKey });
    const seen = (await relay.call('GET', `/v1/agents/${agent.id}`)).body.last_seen;
    await new Promise((r) => setTimeout(r, 300));
    const beat = await relay.call(
      'POST',
      `/v1/agents/${agent.id}/sessions/${opened.body.session_id}/heartbeat`,
      {
        token: agent.apiKey,
      },
    );
    expect(beat).toMatchObject({ status: 200, body: { session_id: opened.body.session_id } });
    expect(Date.parse(beat.body.expires_at)).toBeGreaterThan(Date.parse(opened.body.expires_at));
    const after = (await relay.call('GET', `/v1/agents/${agent.id}`)).body.last_seen;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(seen));
  });

  it('lets a session that missed two heartbeats expire: its heartbeat is then 404', async () => {
    const agent = await fresh();
    const opened = await relay.call('POST', `/v1/agents/${agent.id}/sessions`, { token: agent.apiKey });
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_SEC * 1000 + 200));
    const beat = await relay.call(
      'POST',
      `/v1/agents/${agent.id}/sessions/${opened.body.session_id}/heartbeat`,
      {
        token: agent.apiKey,
      },
    );
    expectError(beat, 404, 'not_found');
  });

  it('deregisters a session once', async () => {
    const agent = await fresh();
    const opened = await relay.call('POST', `/v1/agents/${agent.id}/sessions`, { token: agent.apiKey });
    const path = `/v1/agents/${agent.id}/sessions/${opened.body.session_id}`;
    expect((await relay.call('DELETE', path, { token: agent.apiKey })).status).toBe(204);
    expectError(await relay.call('DELETE', path, { token: agent.apiKey }), 404, 'not_found');
  });

  it('refuses another agent’s sessions, a malformed session id and an unknown agent', async () => {
    const [a, b] = [await fresh(), await fresh()];
    expectError(
      await relay.call('POST', `/v1/agents/${a.id}/sessions`, { token: b.apiKey }),
      403,
      'forbidden',
    );
    expectError(
      await relay.call('POST', `/v1/agents/${a.id}/sessions/not-a-uuid/heartbeat`, { token: a.apiKey }),
      422,
      'validation_failed',
    );
    expectError(await relay.call('POST', '/v1/agents/nobody.here/sessions'), 404, 'not_found');
  });
});
