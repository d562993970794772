import { type Message, type MessageRecord, ValidationError } from '@agent-dispatch/client';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { LeaseBook } from './leases.js';
import { listAgents, type McpRelay } from './relay.js';

// A model reads these descriptions to decide what to call, so they say when to use a tool and
// what a lease obliges it to do, not how the tool is built.

// Coding agents think for minutes between calls; a PULL's 30 s default would expire mid-task.
const DEFAULT_LEASE_SEC = 300;

const MESSAGE_ID = z.string().min(1).describe('The message_id of the message, as check_inbox returned it.');
const LEASE_ID = z
  .string()
  .min(1)
  .describe('The lease_id check_inbox returned with the message: proves you still hold it.');
const JSON_OBJECT = z.record(z.string(), z.unknown());
const LIMIT = z.number().int().min(1).max(100).optional().describe('At most this many items (default 20).');
const CURSOR = z.string().optional().describe('next_cursor from the previous page, to read the next one.');

/** What a model needs of any message: what it is, who sent it, what it says, which thread. */
function fieldsOf(m: Message | MessageRecord) {
  return {
    message_id: m.id,
    type: m.type,
    from: m.from,
    subject: m.subject,
    body: m.body,
    correlation_id: m.correlation_id ?? null,
  };
}

/** A leased message: its fields and how to settle it. */
const leased = (m: Message) => ({
  ...fieldsOf(m),
  lease_id: m.lease_id,
  lease_until: m.lease_until,
  attempts: m.attempts,
});

/** A message met while reading (a reply, a thread): where it stands, nothing to settle. */
const record = (m: MessageRecord) => ({
  ...fieldsOf(m),
  to: m.to,
  status: m.status,
  created_at: m.created_at,
});

const answer = (value: unknown): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
});

/**
 * A failed call as a tool result the model can read and act on: the relay's error code first
 * (`policy_denied: …`), never a protocol error that would end the call.
 */
export function toolError(error: unknown): CallToolResult {
  const { code, message, status } = error as { code?: unknown; message?: unknown; status?: unknown };
  const head = typeof code === 'string' ? `${code}: ` : 'error: ';
  const tail = typeof status === 'number' ? ` (HTTP ${status})` : '';
  return { isError: true, content: [{ type: 'text', text: `${head}${String(message ?? error)}${tail}` }] };
}

const attempt =
  <A>(run: (args: A) => Promise<unknown>) =>
  async (args: A): Promise<CallToolResult> => {
    try {
      return answer(await run(args));
    } catch (error) {
      return toolError(error);
    }
  };

/** Registers the tools of SPEC "MCP" on `server`, acting as `relay`'s agent. */
export function registerTools(server: McpServer, relay: McpRelay, leases: LeaseBook): void {
  server.registerTool(
    'send_message',
    {
      title: 'Send a message',
      description:
        'Send a message to another agent\'s inbox through the relay. Use type "task.request" to ask ' +
        'another agent to do something (then call wait_for_reply with the returned message_id), ' +
        '"event" to tell it something that needs no answer. Delivery is durable and at-least-once. ' +
        'Returns {message_id}.',
      inputSchema: {
        to: z
          .string()
          .min(1)
          .describe('The recipient agent id, e.g. "frontend.dev" (or "agent://frontend.dev").'),
        subject: z.string().min(1).max(255).describe('A short summary of the message, 1–255 characters.'),
        body: JSON_OBJECT.describe('The content: any JSON object, e.g. {"task": "…", "files": ["…"]}.'),
        type: z
          .enum(['task.request', 'task.result', 'task.error', 'event'])
          .default('task.request')
          .describe('task.request (default) asks for a reply; event needs none.'),
        correlation_id: z
          .string()
          .optional()
          .describe('Ties this message to an earlier one (a thread); see get_thread.'),
        ttl_sec: z
          .number()
          .int()
          .min(1)
          .max(604800)
          .optional()
          .describe('Seconds the message waits to be taken before it expires (default 86400).'),
        idempotency_key: z
          .string()
          .min(1)
          .max(255)
          .optional()
          .describe('Retrying with the same key never sends the message twice.'),
      },
    },
    attempt(async (a) => ({
      message_id: await relay.send({
        to: a.to,
        type: a.type,
        subject: a.subject,
        body: a.body,
        ...(a.correlation_id === undefined ? {} : { correlationId: a.correlation_id }),
        ...(a.ttl_sec === undefined ? {} : { ttlSec: a.ttl_sec }),
        ...(a.idempotency_key === undefined ? {} : { idempotencyKey: a.idempotency_key }),
      }),
    })),
  );

  server.registerTool(
    'check_inbox',
    {
      title: 'Check your inbox',
      description:
        'Take the oldest waiting messages from your inbox. Each comes LEASED to you: nobody else ' +
        'gets it until lease_until. When you have handled a message, call reply (for a ' +
        'task.request) or ack_message; if you cannot handle it, call nack_message to give it back. ' +
        'A message you neither ack nor reply to before its lease runs out is delivered again (its ' +
        'attempts count goes up; after 3 it becomes a dead letter). Call nack_message with ' +
        'extend_sec to keep working on it longer. Returns {messages: [{message_id, lease_id, ' +
        'lease_until, type, from, subject, body, attempts, correlation_id}]}, empty when there is ' +
        'nothing to do.',
      inputSchema: {
        max_messages: z
          .number()
          .int()
          .min(1)
          .max(20)
          .default(5)
          .describe('Take at most this many messages (default 5).'),
        wait_sec: z
          .number()
          .int()
          .min(0)
          .max(20)
          .default(0)
          .describe('When the inbox is empty, wait up to this many seconds for a message (default 0).'),
        lease_sec: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(DEFAULT_LEASE_SEC)
          .describe(
            `Seconds you hold each message before it is delivered again (default ${DEFAULT_LEASE_SEC}).`,
          ),
      },
    },
    attempt(async (a) => {
      const messages = await relay.pullBatch({
        maxMessages: a.max_messages,
        wait: a.wait_sec,
        visibilityTimeout: a.lease_sec,
      });
      for (const m of messages) leases.took(m.id, m.lease_id);
      return { messages: messages.map(leased) };
    }),
  );

  server.registerTool(
    'ack_message',
    {
      title: 'Acknowledge a message',
      description:
        'Mark a message you took with check_inbox as done: it is removed from your inbox and never ' +
        'delivered again. Call it after you have fully handled the message (reply does this for you).',
      inputSchema: { message_id: MESSAGE_ID, lease_id: LEASE_ID },
    },
    attempt(async (a) => {
      await relay.ack({ id: a.message_id, lease_id: a.lease_id });
      leases.settled(a.message_id);
      return { status: 'acked' };
    }),
  );

  server.registerTool(
    'nack_message',
    {
      title: 'Give a message back, or keep it longer',
      description:
        'Without extend_sec: give a message you took back to the inbox, to be delivered again (to ' +
        'you or another worker); this counts one attempt. With extend_sec: keep your lease that ' +
        'many seconds longer because you are still working on it.',
      inputSchema: {
        message_id: MESSAGE_ID,
        lease_id: LEASE_ID,
        extend_sec: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .optional()
          .describe('Keep the message leased this many more seconds instead of giving it back.'),
      },
    },
    attempt(async (a) => {
      const extend = a.extend_sec;
      const result = await relay.nack(
        { id: a.message_id, lease_id: a.lease_id },
        extend === undefined ? {} : { extend },
      );
      if (extend === undefined) leases.settled(a.message_id);
      return result;
    }),
  );

  server.registerTool(
    'reply',
    {
      title: 'Reply to a task request',
      description:
        'Answer a task.request you took with check_inbox: sends your result (or an error) back to ' +
        'its sender, who may be waiting in wait_for_reply, and acknowledges the request in the ' +
        'same step. Give exactly one of result or error.',
      inputSchema: {
        message_id: MESSAGE_ID,
        lease_id: LEASE_ID,
        result: JSON_OBJECT.optional().describe('What you did: any JSON object, e.g. {"summary": "…"}.'),
        error: z
          .object({
            code: z.string().min(1).describe('A short snake_case reason, e.g. "cannot_reproduce".'),
            message: z.string().min(1).describe('One sentence for the requester.'),
          })
          .optional()
          .describe('Why you could not do the task, instead of a result.'),
      },
    },
    attempt(async (a) => {
      if ((a.result === undefined) === (a.error === undefined)) {
        throw new ValidationError({
          code: 'validation_failed',
          message: 'give exactly one of result or error',
        });
      }
      const response = a.error === undefined ? { result: a.result ?? {} } : { error: a.error };
      const id = await relay.reply({ id: a.message_id, lease_id: a.lease_id }, response);
      leases.settled(a.message_id);
      return { message_id: id };
    }),
  );

  server.registerTool(
    'wait_for_reply',
    {
      title: 'Wait for a reply',
      description:
        'Wait for the answer to a task.request you sent with send_message, and return it (its body ' +
        'holds the result, or the error, of the other agent). Waiting takes nothing from your inbox: ' +
        'the reply stays there too, so when check_inbox hands it to you later, just ack_message it. ' +
        'Fails with "timeout" when no reply arrives in time: call it again to keep waiting.',
      inputSchema: {
        message_id: z.string().min(1).describe('The message_id send_message returned.'),
        timeout_sec: z
          .number()
          .int()
          .min(1)
          .max(120)
          .default(30)
          .describe('Give up after this many seconds (default 30).'),
      },
    },
    attempt(async (a) => {
      const reply = await relay.waitForReply(a.message_id, { timeoutMs: a.timeout_sec * 1000 });
      return record(reply);
    }),
  );

  server.registerTool(
    'inbox_stats',
    {
      title: 'Count your inbox',
      description:
        'How many messages wait in your inbox (ready), are leased, or are dead letters, and the age ' +
        'in seconds of the oldest waiting one. Cheap: call it to decide whether to check_inbox.',
      inputSchema: {},
    },
    attempt(() => relay.inboxStats()),
  );

  server.registerTool(
    'get_thread',
    {
      title: 'Read a thread',
      description:
        'Every message of a conversation you took part in, oldest first: the message whose id is ' +
        'correlation_id and every message carrying that correlation_id (replies included). Reading ' +
        'never leases or changes anything.',
      inputSchema: {
        correlation_id: z
          .string()
          .min(1)
          .describe("The id of the thread's first message, or the correlation_id its messages carry."),
      },
    },
    attempt(async (a) => ({ messages: (await relay.thread(a.correlation_id)).map(record) })),
  );

  server.registerTool(
    'list_dead_letters',
    {
      title: 'List your dead letters',
      description:
        'Messages of your inbox that failed too often (every delivery ended without an ack), with ' +
        'the last error. Look at them, fix the cause, then bring them back with redrive_dead_letters.',
      inputSchema: { limit: LIMIT, cursor: CURSOR },
    },
    attempt((a) => relay.deadLetters({ limit: a.limit ?? 20, ...(a.cursor ? { cursor: a.cursor } : {}) })),
  );

  server.registerTool(
    'redrive_dead_letters',
    {
      title: 'Redrive dead letters',
      description:
        'Put dead letters of your inbox back to be delivered again, with their attempts reset. Give ' +
        'message_ids (from list_dead_letters) or all: true. Returns {redriven: n}.',
      inputSchema: {
        message_ids: z
          .array(z.string().min(1))
          .min(1)
          .max(100)
          .optional()
          .describe('The dead letters to redrive.'),
        all: z.literal(true).optional().describe('Redrive every dead letter of your inbox.'),
      },
    },
    attempt(async (a) => {
      if ((a.message_ids === undefined) === (a.all === undefined)) {
        const message = 'give exactly one of message_ids or all: true';
        throw new ValidationError({ code: 'validation_failed', message });
      }
      return { redriven: await relay.redrive(a.message_ids ?? { all: true }) };
    }),
  );

  server.registerTool(
    'list_agents',
    {
      title: 'List agents',
      description:
        'The agents you may send messages to, with whether each is online now. Call it to find the ' +
        'right recipient for send_message.',
      inputSchema: { limit: LIMIT, cursor: CURSOR },
    },
    attempt((a) => listAgents(relay, { limit: a.limit ?? 20, ...(a.cursor ? { cursor: a.cursor } : {}) })),
  );
}
