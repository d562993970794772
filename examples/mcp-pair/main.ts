/**
 * MCP pair: two coding agents split a task through the relay, each using only MCP tools, the way
 * Claude Code or Cursor would call them. `lead` talks to the relay's own `POST /mcp` (Streamable
 * HTTP); `frontend` runs `admp mcp` as a child process over stdio, as an MCP client configured
 * with `.mcp.json` does. Neither writes a line of relay code: they call tools.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { check, deleteAgents, RELAY_URL, registerAgent, run } from '../shared/relay.js';

const ADMP = fileURLToPath(new URL('../../bin/admp.js', import.meta.url));

/** Calls a tool and parses its JSON answer; an `isError` result ends the example with its text. */
async function tool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  if (result.isError) throw new Error(`${name}: ${text}`);
  return JSON.parse(text);
}

run('mcp-pair', async () => {
  const [leadAgent, frontendAgent] = [await registerAgent('lead'), await registerAgent('frontend')];

  const lead = new Client({ name: 'lead', version: '1.0.0' });
  await lead.connect(
    new StreamableHTTPClientTransport(new URL(`${RELAY_URL}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${leadAgent.apiKey}` } },
    }),
  );
  const frontend = new Client({ name: 'frontend', version: '1.0.0' });
  await frontend.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [ADMP, 'mcp', '--url', RELAY_URL, '--agent', frontendAgent.agentId],
      // The credential travels in the environment, never on the command line.
      env: { PATH: process.env.PATH ?? '', ADMP_API_KEY: frontendAgent.apiKey },
    }),
  );

  try {
    const { tools } = await lead.listTools();
    console.log(`  tools: ${tools.map((t) => t.name).join(', ')}`);

    // The lead splits "add a login page": it keeps the API and hands the form to frontend.
    const { agents } = await tool(lead, 'list_agents');
    check(
      agents.some((a: { agent_id: string }) => a.agent_id === frontendAgent.agentId),
      'the lead finds the frontend agent with list_agents',
    );
    const { message_id: taskId } = await tool(lead, 'send_message', {
      to: frontendAgent.agentId,
      subject: 'login page: build the form',
      body: { task: 'build src/pages/login.tsx; POST to /api/login', api_ready: true },
    });
    console.log(`  lead sent task ${taskId}`);

    // The frontend agent checks its inbox, does its half, and replies; reply also acks the task.
    const { messages } = await tool(frontend, 'check_inbox', { wait_sec: 10 });
    const [task] = messages;
    check(task?.message_id === taskId, 'the frontend agent leases the task with check_inbox');
    console.log(`  frontend holds it until ${task.lease_until} (lease ${task.lease_id})`);
    await tool(frontend, 'reply', {
      message_id: task.message_id,
      lease_id: task.lease_id,
      result: {
        files: ['src/pages/login.tsx'],
        summary: 'form with email and password, posts to /api/login',
      },
    });

    // Meanwhile the lead did the API; now it waits for the other half.
    const answer = await tool(lead, 'wait_for_reply', { message_id: taskId, timeout_sec: 30 });
    console.log(`  lead got ${answer.type}: ${JSON.stringify(answer.body)}`);
    check(answer.type === 'task.result', 'the lead gets a task.result with wait_for_reply');
    check(answer.body.files?.[0] === 'src/pages/login.tsx', 'the result names the file the frontend wrote');

    // The reply waits in the lead's inbox too: taking and acking it leaves both inboxes empty.
    const [copy] = (await tool(lead, 'check_inbox')).messages;
    await tool(lead, 'ack_message', { message_id: copy.message_id, lease_id: copy.lease_id });
    const thread = await tool(lead, 'get_thread', { correlation_id: taskId });
    check(thread.messages.length === 2, 'get_thread shows the task and its result');
    const [leadStats, frontendStats] = [await tool(lead, 'inbox_stats'), await tool(frontend, 'inbox_stats')];
    check(
      leadStats.ready + leadStats.leased + frontendStats.ready + frontendStats.leased === 0,
      'both inboxes are empty',
    );
  } finally {
    await Promise.allSettled([lead.close(), frontend.close()]);
    await deleteAgents([leadAgent, frontendAgent]);
  }
});
