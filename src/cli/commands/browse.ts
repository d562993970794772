// Looking into inboxes without taking anything (SPEC: Browsing), and cancelling a message sent by
// mistake (SPEC: Dead letters, delay, cancel).
import { type Command, type Context, intOption } from '../command.js';
import { table } from '../format.js';

/** A message as listings, threads and dead letters show it. */
export interface Listed {
  id: string;
  type: string;
  from: string;
  to: string;
  subject: string;
  status: string;
  attempts: number;
  created_at?: string;
  died_at?: string;
  last_error?: string | null;
}

interface Page {
  messages: Listed[];
  next_cursor?: string | null;
}

const bare = (uri: string) => uri.replace(/^agent:\/\//, '');

export const JSON_OPTION = { type: 'boolean', description: 'print the relay’s JSON answer' } as const;
export const PAGE_OPTIONS = {
  limit: { type: 'string', value: 'n', description: 'at most n messages (default 50)' },
  cursor: { type: 'string', value: 'cursor', description: 'the page after the one that printed this cursor' },
} as const;

/** `?limit=&cursor=` and any other flags given, for a listing. */
export function pageQuery(c: Context, extra: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  const limit = intOption(c.values, 'limit');
  if (limit !== undefined) query.set('limit', String(limit));
  if (c.values.cursor) query.set('cursor', c.values.cursor as string);
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) query.set(name, value);
  const text = query.toString();
  return text ? `?${text}` : '';
}

/** A listing as a table (or its JSON), and on stderr how to get the next page. */
export function printPage(c: Context, page: Page, when: 'created_at' | 'died_at' = 'created_at'): void {
  if (c.values.json) {
    c.out(JSON.stringify(page, null, 2));
    return;
  }
  if (page.messages.length === 0) c.note('no messages');
  else {
    const headers = [
      'ID',
      'STATUS',
      'TYPE',
      'FROM',
      'TO',
      'ATTEMPTS',
      when === 'died_at' ? 'DIED' : 'CREATED',
    ];
    const rows = page.messages.map((m) => [
      m.id,
      m.status,
      m.type,
      bare(m.from),
      bare(m.to),
      String(m.attempts),
      m[when] ?? '',
      m.subject,
    ]);
    c.out(table([...headers, 'SUBJECT'], rows));
  }
  if (page.next_cursor) c.note(`more: --cursor ${page.next_cursor}`);
}

export const browseCommands: Command[] = [
  {
    name: 'ls',
    summary: 'List --agent’s inbox (or what it sent), newest first, without leasing anything',
    remote: true,
    options: {
      sent: { type: 'boolean', description: 'messages --agent sent, not those it received' },
      status: {
        type: 'string',
        value: 'state',
        description: 'only delivered | leased | acked | dead | cancelled',
      },
      ...PAGE_OPTIONS,
      json: JSON_OPTION,
    },
    details: 'Prints one page; the cursor of the next is printed on stderr.',
    async run(c) {
      const query = pageQuery(c, {
        direction: c.values.sent ? 'sent' : undefined,
        status: c.values.status as string | undefined,
      });
      const r = await c
        .relay()
        .call<Page>('GET', `/v1/agents/${encodeURIComponent(c.agent())}/messages${query}`);
      printPage(c, r.body);
    },
  },
  {
    name: 'thread',
    summary:
      'Show a conversation, oldest first: a message and every message carrying its id as correlation_id',
    args: ['<correlation_id>'],
    remote: true,
    options: { json: JSON_OPTION },
    details: 'Shows only the messages the caller sent or received (all of them with the admin key).',
    async run(c) {
      const id = encodeURIComponent(c.args[0] as string);
      const r = await c.relay().call<Page>('GET', `/v1/threads/${id}`);
      printPage(c, r.body);
    },
  },
  {
    name: 'cancel',
    summary: 'Cancel a message that was sent but not yet leased (a delayed one, say): it is never delivered',
    args: ['<message_id>'],
    remote: true,
    details:
      'Only its sender (or the admin key) may. A leased or finished message is refused (invalid_state).',
    async run(c) {
      const id = encodeURIComponent(c.args[0] as string);
      const r = await c.relay().call<{ status: string }>('DELETE', `/v1/messages/${id}`);
      c.out(r.body.status);
    },
  },
];
