// The batch endpoints (SPEC: Batches) behind `send --batch`, `pull --max` and `ack --batch`. Input
// and output are JSON lines, so `admp pull --max 10 > work.ndjson` feeds `admp ack --batch work.ndjson`,
// and each result line stands at the position of the input line it answers.
import { CliError, type Context, intOption } from '../command.js';
import { signerOf } from '../signing.js';

export const BATCH_OPTION = {
  type: 'string',
  value: 'path',
  description: 'read JSON lines from a file, or - for stdin, and send them as one batch (at most 100)',
} as const;

/** `?delay=` of `send --delay`, for one message or a batch. */
export const delayQuery = (c: Context) => {
  const delay = intOption(c.values, 'delay');
  return delay === undefined ? '' : `?delay=${delay}`;
};

type Line = Record<string, unknown>;

interface ItemResult {
  message_id?: string;
  status?: string;
  error?: { code: string; message: string };
}

const inbox = (c: Context) => `/v1/agents/${encodeURIComponent(c.agent())}`;
const uri = (to: unknown) => (typeof to === 'string' && !to.startsWith('agent://') ? `agent://${to}` : to);

/** `send --batch`: each line an envelope, or the part of one that matters (`to`, `subject`, `body`…). */
export async function sendBatch(c: Context): Promise<void> {
  const sign = signerOf(c);
  const type = (c.values.type as string | undefined) ?? 'task.request';
  const messages = readLines(c).map(({ line, number }) => {
    if (line.body !== undefined && !isObject(line.body)) {
      throw new CliError(`${where(c)} line ${number}: body must be a JSON object`, 2);
    }
    // What the line leaves out is filled in as `admp send` would; what it gives is sent as given.
    return sign({
      version: '1.0',
      id: crypto.randomUUID(),
      type,
      timestamp: new Date().toISOString(),
      ...line,
      from: uri(line.from ?? c.agent()) as string,
      to: uri(line.to) as string,
      body: (line.body ?? {}) as Record<string, unknown>,
    });
  });
  if (messages.length === 0) return c.note('nothing to send');
  const r = await c
    .relay()
    .call<{ results: ItemResult[] }>('POST', `/v1/messages/batch${delayQuery(c)}`, { body: { messages } });
  report(c, r.body.results, 'sent');
}

/** `pull --max n`: up to n messages, oldest first, one JSON line each. */
export async function pullBatch(c: Context, max: number): Promise<void> {
  const wait = intOption(c.values, 'wait', 0) ?? 0;
  const query = new URLSearchParams({
    max_messages: String(max),
    visibility_timeout: String(intOption(c.values, 'visibility-timeout', 30)),
    wait: String(wait),
  });
  if (wait > 0) c.note(`waiting up to ${wait} s for a message…`);
  const r = await c.relay().call<{ messages: unknown[] }>('POST', `${inbox(c)}/inbox/pull-batch?${query}`, {
    timeoutMs: (wait + 30) * 1000,
  });
  if (r.body.messages.length === 0) return c.note('inbox empty');
  for (const message of r.body.messages) c.out(JSON.stringify(message));
}

/** `ack --batch`: lines as `pull` prints them (`id`, `lease_id`), or `{message_id, lease_id}`. */
export async function ackBatch(c: Context): Promise<void> {
  const acks = readLines(c).map(({ line, number }) => {
    const id = line.message_id ?? line.id;
    if (typeof id !== 'string') throw new CliError(`${where(c)} line ${number}: no id or message_id`, 2);
    // The relay settles a batch item only by its lease, so a stale holder's ACK fails alone.
    if (typeof line.lease_id !== 'string') throw new CliError(`${where(c)} line ${number}: no lease_id`, 2);
    return { message_id: id, lease_id: line.lease_id };
  });
  if (acks.length === 0) return c.note('nothing to ack');
  const r = await c
    .relay()
    .call<{ results: ItemResult[] }>('POST', `${inbox(c)}/inbox/ack-batch`, { body: { acks } });
  report(c, r.body.results, 'acked');
}

/** One result line per item on stdout, a count on stderr, and exit 1 when any item failed. */
function report(c: Context, results: ItemResult[], done: string): void {
  for (const result of results) c.out(JSON.stringify(result));
  const failed = results.filter((r) => r.error);
  if (failed.length === 0) {
    c.note(`${done} ${results.length}`);
    return;
  }
  const first = failed[0]?.error;
  throw new CliError(
    `${done} ${results.length - failed.length} of ${results.length}; ${failed.length} failed` +
      ` (first: ${first?.code}: ${first?.message})`,
  );
}

const where = (c: Context) => {
  const path = c.values.batch as string;
  return path === '-' ? 'stdin' : path;
};

const isObject = (value: unknown): value is Line =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The non-blank lines of --batch, each a JSON object, with its line number for messages. */
function readLines(c: Context): { line: Line; number: number }[] {
  const path = c.values.batch as string;
  let text: string;
  try {
    text = c.readText(path);
  } catch (error) {
    throw new CliError(`cannot read --batch ${path}: ${(error as Error).message}`, 2);
  }
  return text.split('\n').flatMap((raw, i) => {
    if (raw.trim() === '') return [];
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new CliError(`${where(c)} line ${i + 1}: not JSON: ${(error as Error).message}`, 2);
    }
    if (!isObject(value)) throw new CliError(`${where(c)} line ${i + 1}: must be a JSON object`, 2);
    return [{ line: value, number: i + 1 }];
  });
}
