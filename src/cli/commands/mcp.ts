import { ADMPClient } from '@agent-dispatch/client';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer } from '../../mcp/server.js';
import { CliError, type Command } from '../command.js';

const CREDENTIALS = ['ADMP_API_KEY', 'ADMP_HMAC_SECRET', 'ADMP_JWT'] as const;

/** The agent's credential from the environment: a command line is visible to every local user. */
function credentialsOf(env: Record<string, string | undefined>) {
  const given = CREDENTIALS.filter((name) => env[name]);
  if (given.length !== 1) {
    const found = given.length ? `found ${given.join(' and ')}` : 'found none';
    throw new CliError(
      `admp mcp needs exactly one of ${CREDENTIALS.join(', ')} in the environment (${found})`,
      2,
    );
  }
  if (env.ADMP_API_KEY) return { apiKey: env.ADMP_API_KEY };
  if (env.ADMP_HMAC_SECRET) return { hmacSecret: env.ADMP_HMAC_SECRET };
  return { jwt: env.ADMP_JWT as string };
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'Serve one agent’s inbox as MCP tools over stdio, for Claude Code, Cursor and other clients',
  options: {
    url: {
      type: 'string',
      value: 'url',
      description: 'the relay (env ADMP_URL; default http://localhost:3030)',
    },
    agent: { type: 'string', value: 'id', description: 'the agent to act as (env ADMP_AGENT_ID)' },
  },
  details:
    'Credentials come from the environment only: ADMP_API_KEY, ADMP_HMAC_SECRET or ADMP_JWT.\n' +
    'stdout carries the protocol; notices go to stderr. When the client disconnects (stdin ends)\n' +
    'or on SIGTERM / Ctrl-C, messages leased by check_inbox and not yet settled are NACKed, so\n' +
    'another worker gets them at once. See docs/mcp.md.',
  async run(c) {
    const relayUrl = (c.values.url as string | undefined) ?? c.env.ADMP_URL ?? 'http://localhost:3030';
    if (!/^https?:\/\//.test(relayUrl))
      throw new CliError(`--url must start with http:// or https://, got ${relayUrl}`, 2);
    const client = new ADMPClient({ relayUrl, agentId: c.agent(), ...credentialsOf(c.env) });
    const { server, leases } = createMcpServer(client);
    await server.connect(new StdioServerTransport());
    c.note(`admp mcp: serving ${client.agentId}'s inbox on ${relayUrl} over stdio`);

    await new Promise<void>((resolve) => {
      process.stdin.once('end', resolve);
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    const released = await leases.release(client);
    if (released > 0) c.note(`admp mcp: gave back ${released} unsettled lease(s)`);
    await server.close();
  },
};
