import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { AuthFailure } from '../auth/failure.js';
import { maySendTo } from '../auth/grants.js';
import { actsFor } from '../auth/principal.js';
import { checkEnvelopeSignature } from '../auth/signing-keys.js';
import type { Deps } from '../deps.js';
import { agentOf, envelopeSchema, parseTimestamp } from '../envelope.js';
import { type ErrorCode, RelayError } from '../errors.js';
import { BROADCAST_TO, storeCopies } from '../inbox/broadcast.js';
import { announceSent } from '../inbox/operation.js';
import { TIMESTAMP_WINDOW_MS } from '../inbox/send.js';
import { enforcePolicy, policySubject } from '../policy/evaluate.js';
import { liveAgents } from '../realtime/sessions.js';
import { credentials, json, jsonBody, pick } from './common.js';

// The Envelope's fields with `to` narrowed, as a schema of its own: extending the registered
// Envelope would publish `allOf` of it and the narrowing, which no body can satisfy (the
// Envelope's `to` pattern refuses `*`).
const BroadcastEnvelope = z
  .object({
    ...envelopeSchema.shape,
    to: z.literal(BROADCAST_TO).openapi({ description: 'Always `agent://*`' }),
  })
  .strict()
  .openapi('BroadcastEnvelope');

const BroadcastResponse = z
  .object({
    recipients: z.number().int().openapi({ description: 'How many agents got a copy' }),
    message_ids: z.record(z.string(), z.string()).openapi({ description: 'Each recipient’s copy id' }),
    refused: z.record(z.string(), z.string()).openapi({
      description: 'Live agents the policy (or the token’s scope) kept out, with the error code',
    }),
  })
  .openapi('BroadcastResponse');

const broadcast = createRoute({
  method: 'post',
  path: '/v1/broadcast',
  operationId: 'broadcastMessage',
  tags: ['Messages'],
  summary: 'Broadcast a message to online agents',
  description:
    'Stores a durable copy of the envelope in the inbox of every agent with a live session (an unexpired ' +
    'session or an open WebSocket), the sender excepted. The policy is checked for each recipient: a recipient ' +
    'it refuses is skipped and listed in `refused` with the code (`policy_denied`, `payload_too_large`, ' +
    '`rate_limited`), and the rest still get their copy. Each copy has its own id, derived from the envelope ' +
    'id and the recipient, so retrying the same envelope stores nothing twice.',
  security: credentials,
  request: { body: jsonBody(BroadcastEnvelope) },
  responses: {
    201: json(BroadcastResponse, 'Stored for every recipient listed'),
    ...pick(400, 415, 401, 403, 413, 422, 429),
  },
});

export function broadcastRoutes(deps: Deps) {
  const { db, config, clock } = deps;
  return new OpenAPIHono<AppEnv>().openapi(broadcast, async (c) => {
    const envelope = c.req.valid('json');
    const principal = c.get('principal');
    const from = agentOf(envelope.from);
    const requestId = c.get('requestId');
    if (!actsFor(principal, from)) {
      throw new AuthFailure('sender_mismatch', `from must be the calling agent, not agent://${from}`);
    }
    const sentAt = parseTimestamp(envelope.timestamp) as number;
    if (Math.abs(clock.now() - sentAt) > TIMESTAMP_WINDOW_MS) {
      const message = `timestamp must be within ${TIMESTAMP_WINDOW_MS / 1000} seconds of the relay's clock`;
      throw new RelayError('timestamp_window_exceeded', message);
    }
    // Signed over `to: agent://*`, the envelope as the sender wrote it.
    await checkEnvelopeSignature(deps, envelope);

    const admitted: { agentId: string; policy: string }[] = [];
    const refused: Record<string, ErrorCode> = {};
    for (const agentId of await liveAgents(db, from)) {
      if (principal.kind === 'agent' && !maySendTo(principal.grants, agentId)) {
        refused[agentId] = 'forbidden';
        continue;
      }
      try {
        const policy = await enforcePolicy(deps, { ...policySubject(envelope), to: agentId }, requestId);
        admitted.push({ agentId, policy });
      } catch (error) {
        if (!(error instanceof RelayError)) throw error;
        refused[agentId] = error.code;
      }
    }

    const copies = await storeCopies(db, {
      envelope,
      recipients: admitted.map((a) => a.agentId),
      maxAttempts: config.maxAttempts,
    });
    const messageIds: Record<string, string> = {};
    const { type, subject, correlation_id = null } = envelope;
    copies.forEach(({ agentId, messageId, created }, i) => {
      messageIds[agentId] = messageId;
      if (!created) return;
      const policy = admitted[i]?.policy ?? null;
      const sent = { messageId, from, to: agentId, type, subject, correlationId: correlation_id };
      announceSent(deps, { ...sent, policy, via: 'broadcast', requestId });
    });
    return c.json({ recipients: copies.length, message_ids: messageIds, refused }, 201);
  });
}
