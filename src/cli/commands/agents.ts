import type { Command } from '../command.js';
import { table } from '../format.js';

interface Agent {
  agent_id: string;
  tier: string;
  require_signature: boolean;
  created_at: string;
  last_seen: string | null;
}

export const agentCommands: Command[] = [
  {
    name: 'agents create',
    summary: 'Register agents (admin key); prints each one’s API key and HMAC secret, shown only once',
    args: ['<agent_id...>'],
    remote: true,
    options: {
      tier: {
        type: 'string',
        value: 'tier',
        description: 'rate-limit tier of the first API key (default standard)',
      },
    },
    details: 'With several ids, prints one JSON object per line and a progress count on stderr.',
    async run(c) {
      const tier = c.values.tier as string | undefined;
      const several = c.args.length > 1;
      for (const [i, agentId] of c.args.entries()) {
        const r = await c
          .relay()
          .call('POST', '/v1/agents', { body: { agent_id: agentId, ...(tier ? { tier } : {}) } });
        c.out(several ? JSON.stringify(r.body) : JSON.stringify(r.body, null, 2));
        if (several) c.note(`created ${i + 1}/${c.args.length}: ${agentId}`);
      }
    },
  },
  {
    name: 'agents list',
    summary: 'List every agent (admin key)',
    remote: true,
    options: { json: { type: 'boolean', description: 'print the relay’s JSON instead of a table' } },
    async run(c) {
      const agents = await c.relay().agents<Agent>();
      if (c.values.json) return c.out(JSON.stringify({ agents }, null, 2));
      if (agents.length === 0) return c.note('no agents');
      c.out(
        table(
          ['AGENT', 'TIER', 'SIGNED', 'CREATED', 'LAST SEEN'],
          agents.map((a) => [
            a.agent_id,
            a.tier,
            a.require_signature ? 'required' : '-',
            a.created_at,
            a.last_seen ?? '-',
          ]),
        ),
      );
    },
  },
  {
    name: 'agents delete',
    summary: 'Delete agents, with their inboxes, keys and sessions (admin key, or the agent’s own)',
    args: ['<agent_id...>'],
    remote: true,
    async run(c) {
      for (const agentId of c.args) {
        await c.relay().call('DELETE', `/v1/agents/${encodeURIComponent(agentId)}`);
        c.out(`deleted ${agentId}`);
      }
    },
  },
];
