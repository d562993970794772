import { MESSAGE_TYPES } from '../../envelope.js';
import { CliError, type Command, type Context, intOption } from '../command.js';
import { parseJsonObject } from '../format.js';
import { signerOf } from '../signing.js';
import { ackBatch, BATCH_OPTION, delayQuery, pullBatch, sendBatch } from './batch.js';

const inbox = (c: Context) => `/v1/agents/${encodeURIComponent(c.agent())}`;
const bare = (to: string) => to.replace(/^agent:\/\//, '');

function bodyOf(c: Context): Record<string, unknown> {
  const text = c.values.body as string | undefined;
  const file = c.values['body-file'] as string | undefined;
  if (text !== undefined && file !== undefined) throw new CliError('give --body or --body-file, not both', 2);
  if (file === undefined) return parseJsonObject(text ?? '{}', 'body');
  try {
    return parseJsonObject(c.readText(file), 'body-file');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read --body-file ${file}: ${(error as Error).message}`, 2);
  }
}

function headersOf(values: Context['values']): Record<string, string> | undefined {
  const pairs = (values.header as string[] | undefined) ?? [];
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new CliError(`--header takes name=value, got ${pair}`, 2);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** `?lease_id=` when given: the relay then refuses to settle a lease that is no longer this one. */
const leaseQuery = (c: Context, extra: Record<string, string> = {}) => {
  const params = new URLSearchParams(extra);
  if (c.values['lease-id']) params.set('lease_id', c.values['lease-id'] as string);
  const text = params.toString();
  return text ? `?${text}` : '';
};

const LEASE_ID = {
  type: 'string',
  value: 'id',
  description: 'the lease_id PULL returned; settles only that lease (recommended)',
} as const;

export const messageCommands: Command[] = [
  {
    name: 'send',
    summary: 'Send a message from --agent to another agent’s inbox (or a batch of them); prints the id',
    args: ['[to]'],
    remote: true,
    options: {
      subject: { type: 'string', value: 'text', description: 'the subject (required), e.g. create_user' },
      body: { type: 'string', value: 'json', description: 'the body, a JSON object (default {})' },
      'body-file': {
        type: 'string',
        value: 'path',
        description: 'read the body from a file, or - for stdin',
      },
      type: {
        type: 'string',
        value: 'type',
        description: `${MESSAGE_TYPES.join(' | ')} (default task.request)`,
      },
      'correlation-id': { type: 'string', value: 'id', description: 'ties a reply to its request' },
      header: { type: 'string', value: 'k=v', multiple: true, description: 'an envelope header; repeatable' },
      ttl: { type: 'string', value: 'sec', description: 'seconds until the message expires (default 86400)' },
      delay: {
        type: 'string',
        value: 'sec',
        description: 'deliver no sooner than this many seconds from now',
      },
      'idempotency-key': {
        type: 'string',
        value: 'key',
        description: 'a repeat with the same key is not sent twice',
      },
      kid: { type: 'string', value: 'kid', description: 'sign with the key registered under this kid' },
      'signing-key': {
        type: 'string',
        value: 'base64',
        description: 'the Ed25519 private key to sign with (env ADMP_SIGNING_KEY)',
      },
      batch: BATCH_OPTION,
    },
    details:
      '<to> is an agent id or agent://id. The envelope id and timestamp are generated. With --delay the\n' +
      'message is stored now and ready later (admp cancel stops it until then). With --kid and\n' +
      '--signing-key the envelope carries an Ed25519 signature the relay verifies (see admp keys generate).\n' +
      'With --batch, each line is an envelope or part of one ({"to","subject","body",…}; the rest is\n' +
      'filled in) and one JSON result per line is printed; exit 1 when any message was refused.',
    async run(c) {
      if (c.values.batch !== undefined) {
        if (c.args.length > 0) throw new CliError('give <to> or --batch, not both', 2);
        return sendBatch(c);
      }
      if (c.args.length === 0) throw new CliError('admp send needs <to> (or --batch <path>)', 2);
      const subject = c.values.subject as string | undefined;
      if (!subject) throw new CliError('admp send needs --subject <text>', 2);
      const type = (c.values.type as string | undefined) ?? 'task.request';
      if (!(MESSAGE_TYPES as readonly string[]).includes(type)) {
        throw new CliError(`--type must be one of ${MESSAGE_TYPES.join(', ')}`, 2);
      }
      const to = bare(c.args[0] as string);
      const ttl = intOption(c.values, 'ttl');
      const correlationId = c.values['correlation-id'] as string | undefined;
      const envelope = {
        version: '1.0',
        id: crypto.randomUUID(),
        type,
        from: `agent://${c.agent()}`,
        to: `agent://${to}`,
        subject,
        body: bodyOf(c),
        timestamp: new Date().toISOString(),
        ...(correlationId ? { correlation_id: correlationId } : {}),
        ...(headersOf(c.values) ? { headers: headersOf(c.values) } : {}),
        ...(ttl !== undefined ? { ttl_sec: ttl } : {}),
      };
      const signed = signerOf(c)(envelope);
      const key = c.values['idempotency-key'] as string | undefined;
      const r = await c
        .relay()
        .call<{ message_id: string }>(
          'POST',
          `/v1/agents/${encodeURIComponent(to)}/messages${delayQuery(c)}`,
          {
            body: signed,
            headers: key ? { 'idempotency-key': key } : {},
          },
        );
      c.out(r.body.message_id);
    },
  },
  {
    name: 'pull',
    summary: 'Lease the oldest ready message of --agent’s inbox and print it as JSON',
    remote: true,
    options: {
      'visibility-timeout': {
        type: 'string',
        value: 'sec',
        description: 'how long the lease lasts (default 30)',
      },
      wait: {
        type: 'string',
        value: 'sec',
        description: 'wait up to this long for a message (at most 20; default 0)',
      },
      max: {
        type: 'string',
        value: 'n',
        description: 'lease up to n messages (1-100) at once, printed one JSON line each',
      },
    },
    details:
      'Prints nothing and exits 0 when the inbox is empty ("inbox empty" on stderr). Keep the lease_id and\n' +
      'pass it to ack or nack with --lease-id; the output of --max feeds admp ack --batch.',
    async run(c) {
      const max = intOption(c.values, 'max');
      if (max !== undefined) return pullBatch(c, max);
      const query = new URLSearchParams({
        visibility_timeout: String(intOption(c.values, 'visibility-timeout', 30)),
        wait: String(intOption(c.values, 'wait', 0)),
      });
      const wait = intOption(c.values, 'wait', 0) ?? 0;
      if (wait > 0) c.note(`waiting up to ${wait} s for a message…`);
      const r = await c
        .relay()
        .call('POST', `${inbox(c)}/inbox/pull?${query}`, { timeoutMs: (wait + 30) * 1000 });
      if (r.status === 204) return c.note('inbox empty');
      c.out(JSON.stringify(r.body, null, 2));
    },
  },
  {
    name: 'ack',
    summary: 'Acknowledge a leased message (or a batch of them): done, never delivered again',
    args: ['[message_id]'],
    remote: true,
    options: { 'lease-id': LEASE_ID, batch: BATCH_OPTION },
    details:
      'With --batch, each line names a message and its lease as admp pull prints them (id, lease_id) or as\n' +
      '{"message_id","lease_id"}; one JSON result per line is printed; exit 1 when any lease was not current.',
    async run(c) {
      if (c.values.batch !== undefined) {
        if (c.args.length > 0 || c.values['lease-id']) {
          throw new CliError('give <message_id> or --batch, not both', 2);
        }
        return ackBatch(c);
      }
      if (c.args.length === 0) throw new CliError('admp ack needs <message_id> (or --batch <path>)', 2);
      const path = `${inbox(c)}/messages/${encodeURIComponent(c.args[0] as string)}/ack${leaseQuery(c)}`;
      const r = await c.relay().call<{ status: string }>('POST', path);
      c.out(r.body.status);
    },
  },
  {
    name: 'nack',
    summary: 'Give a leased message back (one more attempt counted), or keep it longer with --extend',
    args: ['<message_id>'],
    remote: true,
    options: {
      extend: {
        type: 'string',
        value: 'sec',
        description: 'keep the lease this many seconds longer instead',
      },
      delay: {
        type: 'string',
        value: 'sec',
        description: 'ready again only this many seconds later (back-off)',
      },
      'lease-id': LEASE_ID,
    },
    async run(c) {
      const extend = intOption(c.values, 'extend');
      const delay = intOption(c.values, 'delay');
      if (extend !== undefined && delay !== undefined)
        throw new CliError('give --extend or --delay, not both', 2);
      const query = leaseQuery(c, {
        ...(extend === undefined ? {} : { extend: String(extend) }),
        ...(delay === undefined ? {} : { delay: String(delay) }),
      });
      const path = `${inbox(c)}/messages/${encodeURIComponent(c.args[0] as string)}/nack${query}`;
      const r = await c.relay().call('POST', path);
      c.out(JSON.stringify(r.body));
    },
  },
];
