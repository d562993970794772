import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { VERSION } from '../version.js';
import { LeaseBook } from './leases.js';
import type { McpRelay } from './relay.js';
import { registerTools } from './tools.js';

const INSTRUCTIONS =
  'Your inbox on an ADMP relay: durable messages between agents. check_inbox leases messages to ' +
  'you; settle each with reply, ack_message or nack_message before its lease runs out, or it is ' +
  'delivered again. Ask another agent for work with send_message, then wait_for_reply.';

/** One MCP session's server: the relay's tools, acting as `relay`'s agent. */
export function createMcpServer(relay: McpRelay): { server: McpServer; leases: LeaseBook } {
  const server = new McpServer({ name: 'admp-relay', version: VERSION }, { instructions: INSTRUCTIONS });
  const leases = new LeaseBook();
  registerTools(server, relay, leases);
  return { server, leases };
}
