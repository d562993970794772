import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { call, TARGETS } from './targets.js';

// The deploy bundle as its own Worker: what `wrangler deploy` would run, with no Node.js flag.
const target = TARGETS.find((t) => t.name.startsWith('the deploy bundle')) ?? TARGETS[0];

describe('POST /mcp on Workers', () => {
  it('serves the tools and carries a send, a lease and an ack through them', async () => {
    if (!target) throw new Error('no workerd target');
    const prefix = `m${crypto.randomUUID().slice(0, 8)}`;
    const register = async (id: string) => {
      const r = await call(target, 'POST', '/v1/agents', { body: { agent_id: `${prefix}.${id}` } });
      expect(r.status).toBe(201);
      return { id: r.body.agent_id as string, apiKey: r.body.api_key as string };
    };
    const [a, b] = [await register('a'), await register('b')];
    const session = async (apiKey: string) => {
      const client = new Client({ name: 'workerd-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL('http://relay.test/mcp'), {
        requestInit: { headers: { authorization: `Bearer ${apiKey}` } },
        fetch: (url, init) => target.fetch(new Request(url, init)),
      });
      await client.connect(transport);
      return client;
    };
    const tool = async (client: Client, name: string, args: Record<string, unknown>) => {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      if (result.isError) throw new Error(`${name}: ${text}`);
      return JSON.parse(text);
    };

    const [sa, sb] = [await session(a.apiKey), await session(b.apiKey)];
    expect((await sa.listTools()).tools.map((t) => t.name)).toContain('check_inbox');
    const { message_id } = await tool(sa, 'send_message', {
      to: b.id,
      subject: 'from a Worker',
      body: { n: 1 },
    });
    const { messages } = await tool(sb, 'check_inbox', {});
    expect(messages).toMatchObject([{ message_id, subject: 'from a Worker', body: { n: 1 } }]);
    expect(await tool(sb, 'ack_message', { message_id, lease_id: messages[0].lease_id })).toEqual({
      status: 'acked',
    });
    expect(await tool(sb, 'inbox_stats', {})).toMatchObject({ ready: 0, leased: 0 });
    await Promise.all([sa.close(), sb.close()]);
  });
});
