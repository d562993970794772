import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../src/db/database.js';
import { expectError } from './support/expect-error.js';
import { type Agent, startTestRelay, type TestRelay } from './support/relay.js';

const BIN = fileURLToPath(new URL('../bin/admp.js', import.meta.url));
const START_TIMEOUT_MS = 180_000;
const TOOLS = [
  'send_message',
  'check_inbox',
  'ack_message',
  'nack_message',
  'reply',
  'wait_for_reply',
  'inbox_stats',
  'get_thread',
  'list_dead_letters',
  'redrive_dead_letters',
  'list_agents',
];
const POLICY = `
tiers:
  tiny: { requests_per_minute: 3 }
policies:
  - name: no-secrets-for-dev
    priority: 10
    from_agent_pattern: '^dev\\.'
    to_agent_pattern: '^vault$'
    action: deny
`;

let relay: TestRelay;
let lead: Agent;
let dev: Agent;
let vault: Agent;
// One `admp mcp` child for most tests: starting a process is the slow part.
let devStdio: Client;
const open: Client[] = [];

/** An MCP session over Streamable HTTP against the live relay, as `agent` (or with no credentials). */
async function overHttp(token: string | null, query = ''): Promise<Client> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(`${relay.baseUrl}/mcp${query}`), {
    requestInit: { headers },
  });
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  await client.connect(transport);
  open.push(client);
  return client;
}

/** An MCP session with `admp mcp` as a real child process over stdio, as `agent`. */
async function overStdio(agent: Agent): Promise<{ client: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', '--url', relay.baseUrl, '--agent', agent.id],
    env: { PATH: process.env.PATH ?? '', ADMP_API_KEY: agent.apiKey },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  // Generous: the child compiles the CLI on start, which on a busy machine takes a while.
  await client.connect(transport, { timeout: START_TIMEOUT_MS });
  open.push(client);
  return { client, transport };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  return { isError: result.isError === true, text, json: () => JSON.parse(text) };
}

async function ok(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${result.text}`);
  return result.json();
}

beforeAll(async () => {
  // Two attempts: a test makes a dead letter with two NACKs, while one NACK still gives a message back.
  relay = await startTestRelay({ MAX_ATTEMPTS: '2' }, { listen: true, policy: POLICY });
  lead = await relay.registerAgent('lead');
  dev = await relay.registerAgent('dev.frontend');
  vault = await relay.registerAgent('vault');
  devStdio = (await overStdio(dev)).client;
}, START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.allSettled(open.map((c) => c.close()));
  await relay?.close();
});

describe('MCP over Streamable HTTP (POST /mcp) and stdio (admp mcp)', () => {
  it('initializes and lists every tool of the SPEC, each with an input schema, over both transports', async () => {
    const http = await overHttp(lead.apiKey);
    for (const client of [http, devStdio]) {
      expect(client.getServerVersion()?.name).toBe('admp-relay');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([...TOOLS].sort());
      for (const tool of tools) {
        expect(tool.inputSchema.type).toBe('object');
        expect(tool.description?.length).toBeGreaterThan(40);
      }
    }
  });

  it('carries a task round trip: A sends over HTTP, B checks and replies over stdio, A waits for the reply', async () => {
    const a = await overHttp(lead.apiKey);
    const b = devStdio;
    const { message_id } = await ok(a, 'send_message', {
      to: dev.id,
      subject: 'split the login form',
      body: { files: ['login.tsx'] },
    });

    const { messages } = await ok(b, 'check_inbox', { wait_sec: 5 });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      message_id,
      type: 'task.request',
      from: `agent://${lead.id}`,
      subject: 'split the login form',
      body: { files: ['login.tsx'] },
      attempts: 0,
    });
    expect(messages[0].lease_id).toEqual(expect.any(String));
    await ok(b, 'reply', {
      message_id,
      lease_id: messages[0].lease_id,
      result: { summary: 'done in 2 files' },
    });

    const reply = await ok(a, 'wait_for_reply', { message_id, timeout_sec: 20 });
    expect(reply).toMatchObject({
      type: 'task.result',
      from: `agent://${dev.id}`,
      correlation_id: message_id,
      body: { summary: 'done in 2 files' },
    });
    expect(await relay.stats(dev)).toMatchObject({ ready: 0, leased: 0 });
    // Waiting spent nothing: the reply is in A's inbox as well, to be taken and acked.
    const [again] = (await ok(a, 'check_inbox')).messages;
    expect(again).toMatchObject({ message_id: reply.message_id, type: 'task.result' });
    await ok(a, 'ack_message', { message_id: again.message_id, lease_id: again.lease_id });
    expect(await relay.stats(lead)).toMatchObject({ ready: 0, leased: 0 });

    const thread = await ok(a, 'get_thread', { correlation_id: message_id });
    expect(thread.messages.map((m: { type: string }) => m.type)).toEqual(['task.request', 'task.result']);
  });

  it('lists dead letters and redrives them through the tools', async () => {
    const a = await overHttp(lead.apiKey);
    const { message_id } = await ok(a, 'send_message', { to: dev.id, subject: 'flaky', body: {} });
    for (let i = 0; i < 2; i++) {
      const [m] = (await ok(devStdio, 'check_inbox')).messages;
      await ok(devStdio, 'nack_message', { message_id: m.message_id, lease_id: m.lease_id });
    }
    const dead = await ok(devStdio, 'list_dead_letters', {});
    expect(dead.messages).toMatchObject([{ id: message_id, status: 'dead', attempts: 2, subject: 'flaky' }]);
    expect(await ok(devStdio, 'redrive_dead_letters', { message_ids: [message_id] })).toEqual({
      redriven: 1,
    });
    const [back] = (await ok(devStdio, 'check_inbox')).messages;
    expect(back).toMatchObject({ message_id, attempts: 0 });
    await ok(devStdio, 'ack_message', { message_id, lease_id: back.lease_id });
    expect((await ok(devStdio, 'list_dead_letters', {})).messages).toEqual([]);
  });

  it('keeps a lease longer and gives a message back with nack_message, and replies with an error', async () => {
    const boss = await relay.registerAgent('boss');
    const worker = await relay.registerAgent('worker');
    const a = await overHttp(boss.apiKey);
    const w = await overHttp(worker.apiKey);
    const { message_id } = await ok(a, 'send_message', { to: worker.id, subject: 'hard task', body: {} });
    const [m] = (await ok(w, 'check_inbox')).messages;
    const extended = await ok(w, 'nack_message', { message_id, lease_id: m.lease_id, extend_sec: 600 });
    expect(Date.parse(extended.lease_until)).toBeGreaterThan(Date.now() + 500_000);
    expect(await relay.stats(worker)).toMatchObject({ ready: 0, leased: 1 });
    await ok(w, 'nack_message', { message_id, lease_id: m.lease_id });
    expect(await relay.stats(worker)).toMatchObject({ ready: 1, leased: 0 });

    const [again] = (await ok(w, 'check_inbox')).messages;
    expect(again).toMatchObject({ message_id, attempts: 1 });
    const error = { code: 'cannot_do', message: 'Too hard for one worker.' };
    const both = await call(w, 'reply', { message_id, lease_id: again.lease_id, result: {}, error });
    expect(both).toMatchObject({ isError: true, text: expect.stringMatching(/^validation_failed: /) });
    await ok(w, 'reply', { message_id, lease_id: again.lease_id, error });
    const reply = await ok(a, 'wait_for_reply', { message_id, timeout_sec: 20 });
    expect(reply).toMatchObject({ type: 'task.error', correlation_id: message_id, body: error });
    expect(await relay.stats(worker)).toMatchObject({ ready: 0, leased: 0 });
  });

  it('lists the agents a session may send to, a page at a time', async () => {
    const a = await overHttp(lead.apiKey);
    const { agents } = await ok(a, 'list_agents', {});
    expect(agents.map((x: { agent_id: string }) => x.agent_id)).toEqual(
      expect.arrayContaining([dev.id, vault.id]),
    );
    const first = await ok(a, 'list_agents', { limit: 1 });
    const second = await ok(a, 'list_agents', { limit: 1, cursor: first.next_cursor });
    expect([first.agents.length, second.agents.length]).toEqual([1, 1]);
    expect(second.agents[0].agent_id).not.toBe(first.agents[0].agent_id);
  });

  it('returns a refusal as an isError result naming the relay’s code, and the session goes on', async () => {
    const a = await overHttp(lead.apiKey);
    const bad = await call(a, 'ack_message', {
      message_id: crypto.randomUUID(),
      lease_id: crypto.randomUUID(),
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/^not_found: /);
    const neither = await call(a, 'reply', {
      message_id: crypto.randomUUID(),
      lease_id: crypto.randomUUID(),
    });
    expect(neither).toMatchObject({ isError: true, text: expect.stringMatching(/^validation_failed: /) });
    const redrive = await call(a, 'redrive_dead_letters', {});
    expect(redrive).toMatchObject({
      isError: true,
      text: 'validation_failed: give exactly one of message_ids or all: true',
    });
    expect(await ok(a, 'inbox_stats')).toMatchObject({ ready: 0 });
  });

  it('refuses /mcp without credentials with 401, in the SPEC’s error shape', async () => {
    const r = await relay.call('POST', '/mcp', {
      token: null,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      headers: { accept: 'application/json, text/event-stream' },
    });
    expectError(r, 401, 'unauthorized');
    await expect(overHttp(null)).rejects.toThrow();
  });

  it('keeps one agent’s session out of another’s inbox', async () => {
    await relay.send(lead, dev.id, { subject: 'private to dev' });
    const a = await overHttp(lead.apiKey);
    expect((await ok(a, 'check_inbox')).messages).toEqual([]);

    const b = devStdio;
    const [held] = (await ok(b, 'check_inbox')).messages;
    const stolen = await call(a, 'ack_message', { message_id: held.message_id, lease_id: held.lease_id });
    expect(stolen).toMatchObject({ isError: true, text: expect.stringMatching(/^not_found: /) });
    await ok(b, 'ack_message', { message_id: held.message_id, lease_id: held.lease_id });

    const r = await relay.call('POST', `/mcp?agent=${dev.id}`, {
      token: lead.apiKey,
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      headers: { accept: 'application/json, text/event-stream' },
    });
    expectError(r, 403, 'forbidden');
    await relay.deps.audit.flush();
    const refused = await rows<{ reason: string }>(
      relay.db,
      sql`select detail->>'reason' as reason from audit_log where event = 'auth.failure' and agent_id = ${lead.id}`,
    );
    expect(refused.map((x) => x.reason)).toContain('forbidden');
  });

  it('applies policy to tool calls: a denied send_message is an isError policy_denied, audited like HTTP', async () => {
    const d = await overHttp(dev.apiKey);
    const denied = await call(d, 'send_message', { to: vault.id, subject: 'keys please', body: {} });
    expect(denied.isError).toBe(true);
    expect(denied.text).toMatch(/^policy_denied: .*no-secrets-for-dev/);
    expect(await relay.stats(vault)).toMatchObject({ ready: 0 });
    await relay.deps.audit.flush();
    const audited = await rows<{ detail: Record<string, string> }>(
      relay.db,
      sql`select detail from audit_log where event = 'policy.denied'`,
    );
    expect(audited.map((a) => a.detail)).toContainEqual(
      expect.objectContaining({ from: dev.id, to: vault.id, policy: 'no-secrets-for-dev' }),
    );
    const metrics = await relay.metrics();
    expect(metrics.sum('admp_policy_denials_total', { policy_name: 'no-secrets-for-dev' })).toBe(1);
  });

  it('counts each tool call against the agent’s tier as one request, as over HTTP', async () => {
    const tiny = await relay.registerAgent('tiny.agent', 'tiny');
    const session = await overHttp(tiny.apiKey);
    for (let i = 0; i < 3; i++) await ok(session, 'inbox_stats');
    const over = await call(session, 'inbox_stats');
    expect(over).toMatchObject({ isError: true, text: expect.stringMatching(/^rate_limited: .*tiny tier/) });
  });

  it('lets the admin act as a named agent with /mcp?agent=', async () => {
    const admin = await overHttp(relay.deps.config.apiKey, `?agent=${vault.id}`);
    expect(await ok(admin, 'inbox_stats')).toMatchObject({ ready: 0, leased: 0 });
  });

  it(
    'gives back the leases a stdio session still holds when its client disconnects',
    async () => {
      await relay.send(lead, dev.id, { subject: 'left unfinished' });
      const { client: b, transport } = await overStdio(dev);
      expect((await ok(b, 'check_inbox')).messages).toHaveLength(1);
      expect(await relay.stats(dev)).toMatchObject({ ready: 0, leased: 1 });
      const exited = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
      });
      await b.close();
      await exited;
      await expect.poll(() => relay.stats(dev), { timeout: 20_000 }).toMatchObject({ ready: 1, leased: 0 });
    },
    START_TIMEOUT_MS,
  );
});
