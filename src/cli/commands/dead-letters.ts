// Dead letters (SPEC: Dead letters, delay, cancel): look at them, send them back, or delete them.
import { CliError, type Command } from '../command.js';
import { JSON_OPTION, type Listed, PAGE_OPTIONS, pageQuery, printPage } from './browse.js';

const deadLetters = (agent: string) => `/v1/agents/${encodeURIComponent(agent)}/dead-letters`;

export const deadLetterCommands: Command[] = [
  {
    name: 'dead-letters list',
    summary: 'List --agent’s dead letters (attempts or TTL ran out), oldest first, with why they died',
    remote: true,
    options: { ...PAGE_OPTIONS, json: JSON_OPTION },
    details: 'Prints one page; the cursor of the next is printed on stderr. See docs/dead-letters.md.',
    async run(c) {
      const r = await c
        .relay()
        .call<{ messages: (Listed & { died_at: string })[]; next_cursor: string | null }>(
          'GET',
          `${deadLetters(c.agent())}${pageQuery(c)}`,
        );
      printPage(c, r.body, 'died_at');
      if (!c.values.json)
        for (const m of r.body.messages) if (m.last_error) c.note(`${m.id}: ${m.last_error}`);
    },
  },
  {
    name: 'dead-letters redrive',
    summary: 'Send dead letters back to --agent’s inbox as new (attempts 0, fresh TTL); prints how many',
    args: ['[message_id...]'],
    remote: true,
    options: { all: { type: 'boolean', description: 'every dead letter of the inbox' } },
    details: 'Fix what made them fail first: a redriven message that fails again dies again.',
    async run(c) {
      if (Boolean(c.values.all) === c.args.length > 0) {
        throw new CliError('admp dead-letters redrive takes message ids or --all', 2);
      }
      const body = c.values.all ? { all: true } : { message_ids: c.args };
      const r = await c
        .relay()
        .call<{ redriven: number }>('POST', `${deadLetters(c.agent())}/redrive`, { body });
      c.out(String(r.body.redriven));
    },
  },
  {
    name: 'dead-letters purge',
    summary: 'Delete dead letters of --agent’s inbox for good',
    args: ['<message_id...>'],
    remote: true,
    async run(c) {
      for (const id of c.args) {
        await c.relay().call('DELETE', `${deadLetters(c.agent())}/${encodeURIComponent(id)}`);
        c.out(`${id} purged`);
      }
    },
  },
];
