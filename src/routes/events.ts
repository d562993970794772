import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { streamSSE } from 'hono/streaming';
import type { AppEnv } from '../app-env.js';
import { requireInbox } from '../auth/principal.js';
import { firstRow } from '../db/database.js';
import type { Deps } from '../deps.js';
import { notFound, RelayError } from '../errors.js';
import type { InboxChange } from '../realtime/hub.js';
import { AgentParam, credentials, pick } from './common.js';

/** A comment line this often keeps proxies from closing an idle stream and shows a dead one. */
export const EVENTS_HEARTBEAT_MS = 15_000;

// One Server-Sent Event as a client parses it (the schema applies to each event, not the stream).
const ServerSentEventSchema = z
  .object({
    event: z.string().optional(),
    data: z.string().openapi({
      description:
        'JSON `{"agent_id", "reason"}`; `reason` is `ready` (a message became ready: a SEND, a NACK, a ' +
        'lease that ran out), `acked` (a leased message was acked or replied to) or `dead`',
    }),
    id: z.string().optional(),
    retry: z.number().int().optional(),
  })
  .openapi('ServerSentEvent');

const watch = createRoute({
  method: 'get',
  path: '/v1/agents/{id}/events',
  operationId: 'watchInbox',
  tags: ['Realtime'],
  summary: 'Watch an inbox change, as Server-Sent Events',
  description:
    'A stream of `data: {"agent_id","reason"}` events, one whenever the inbox changes, and a `: ping` ' +
    'comment every 15 seconds. Notify only: it never leases, acks or changes anything, so a console ' +
    'may watch an inbox its consumers drain. Changes close together may come as one event. ' +
    'Credentials go in headers (read it with `fetch`, not `EventSource`). ' +
    'Served by the Node relay; see docs/realtime.md.',
  security: credentials,
  request: { params: AgentParam },
  responses: {
    200: {
      description: 'The event stream; it ends when the relay shuts down',
      content: {
        'text/event-stream': { schema: ServerSentEventSchema },
      },
    },
    ...pick(401, 403, 404, 422, 429, 503),
  },
});

export function eventRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>().openapi(watch, async (c) => {
    const { id } = c.req.valid('param');
    requireInbox(c.get('principal'), id);
    if (!deps.hub.hearsEveryProcess) {
      throw new RelayError('unavailable', 'this relay does not serve event streams; use the WebSocket');
    }
    const agent = await firstRow<{ id: string }>(deps.db, sql`select id from agent where id = ${id}`);
    if (!agent) throw notFound(`agent ${id}`);
    const ends = [c.req.raw.signal, deps.stopping];
    let end = () => {};
    return streamSSE(c, async (stream) => {
      // Changes that came while a write was under way go out together: a slow reader holds at
      // most one of each kind, never a queue.
      const pending = new Set<InboxChange>();
      let writing = false;
      const flush = async () => {
        if (writing) return;
        writing = true;
        try {
          while (pending.size > 0 && !stream.aborted) {
            const change = pending.values().next().value as InboxChange;
            pending.delete(change);
            await stream.writeSSE({ data: JSON.stringify({ agent_id: id, reason: change }) });
          }
        } finally {
          writing = false;
        }
      };
      const unwatch = deps.hub.watch(id, (change) => {
        pending.add(change);
        void flush().catch(() => {});
      });
      const heartbeat = setInterval(
        () => void stream.write(': ping\n\n').catch(() => {}),
        EVENTS_HEARTBEAT_MS,
      );
      try {
        await stream.write(`: watching ${id}\n\n`);
        // Until the client goes away or the relay begins to stop.
        await new Promise<void>((resolve) => {
          end = resolve;
          for (const signal of ends) signal.addEventListener('abort', end, { once: true });
          if (ends.some((signal) => signal.aborted)) resolve();
          stream.onAbort(resolve);
        });
      } finally {
        for (const signal of ends) signal.removeEventListener('abort', end);
        unwatch();
        clearInterval(heartbeat);
      }
    });
  });
}
