import type { Command } from '../command.js';
import { table } from '../format.js';

interface Stats {
  ready: number;
  leased: number;
  dead: number;
  oldest_age_sec: number;
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'Show inbox depth: ready, leased and dead messages, and the oldest one’s age',
  args: ['[agent_id...]'],
  remote: true,
  options: {
    all: { type: 'boolean', description: 'every agent’s inbox (admin key), with progress on stderr' },
    json: { type: 'boolean', description: 'print JSON: {agent_id: stats}' },
  },
  details: 'Without ids or --all, shows --agent’s inbox.',
  async run(c) {
    let agents = c.args;
    if (c.values.all) {
      agents = (await c.relay().agents()).map((a) => a.agent_id);
    } else if (agents.length === 0) {
      agents = [c.agent()];
    }
    const results: Record<string, Stats> = {};
    for (const [i, agentId] of agents.entries()) {
      const r = await c.relay().call<Stats>('GET', `/v1/agents/${encodeURIComponent(agentId)}/inbox/stats`);
      results[agentId] = r.body;
      // One request per inbox: on a relay with many agents this takes a while.
      if (agents.length > 1) c.note(`stats ${i + 1}/${agents.length}`);
    }
    if (c.values.json) return c.out(JSON.stringify(results, null, 2));
    c.out(
      table(
        ['AGENT', 'READY', 'LEASED', 'DEAD', 'OLDEST'],
        Object.entries(results).map(([id, s]) => [
          id,
          String(s.ready),
          String(s.leased),
          String(s.dead),
          `${s.oldest_age_sec} s`,
        ]),
      ),
    );
  },
};
