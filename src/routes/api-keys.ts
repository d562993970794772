import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../app-env.js';
import { issueApiKey } from '../auth/api-key.js';
import { randomBytes, toHex } from '../auth/crypto.js';
import { AuthFailure } from '../auth/failure.js';
import { requireManage } from '../auth/principal.js';
import { firstRow, isUniqueViolation } from '../db/database.js';
import type { Deps } from '../deps.js';
import { notFound, RelayError } from '../errors.js';
import { AgentParam, credentials, json, jsonBody, pick, requireKnownTier, tier } from './common.js';

const IssuedKey = z
  .object({ key_id: z.string(), api_key: z.string(), tier: z.string() })
  .openapi('IssuedApiKey');

const issueKey = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/api-keys',
  operationId: 'issueApiKey',
  tags: ['Keys'],
  summary: 'Issue an API key',
  description:
    'An agent may issue keys of its calling credential’s tier; only the admin may choose another tier. ' +
    'Without `tier`, the admin’s key gets the agent’s tier.',
  security: credentials,
  request: { params: AgentParam, body: jsonBody(z.object({ tier: tier.optional() }).strict()) },
  responses: { 201: json(IssuedKey, 'The new key, shown once'), ...pick(400, 415, 401, 403, 404, 422, 429) },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}/api-keys/{key_id}',
  operationId: 'revokeApiKey',
  tags: ['Keys'],
  summary: 'Revoke an API key',
  description: 'Takes effect at once on this relay process and within 60 seconds on every other one.',
  security: credentials,
  request: {
    params: AgentParam.extend({
      key_id: z
        .string()
        .regex(/^[0-9a-f]{16}$/, 'must be a key id')
        .openapi({ param: { name: 'key_id', in: 'path' } }),
    }),
  },
  responses: { 204: { description: 'Revoked' }, ...pick(401, 403, 404, 422, 429) },
});

const rotateSecret = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/hmac-secret',
  operationId: 'rotateHmacSecret',
  tags: ['Keys'],
  summary: 'Replace the HMAC secret',
  description:
    'The new secret is shown once. The old one stops working at once on this relay process and within ' +
    '60 seconds on every other one; its signatures are refused from then on.',
  security: credentials,
  request: { params: AgentParam },
  responses: {
    201: json(
      z.object({ agent_id: z.string(), hmac_secret: z.string() }).openapi('HmacSecret'),
      'The new secret',
    ),
    ...pick(401, 403, 404, 422, 429),
  },
});

/** An agent's shared-secret credentials: API keys and the HMAC secret. */
export function apiKeyRoutes(deps: Deps) {
  const { db, keyCache, agents, secrets } = deps;
  return new OpenAPIHono<AppEnv>()
    .openapi(issueKey, async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      requireManage(principal, id);
      let requested = c.req.valid('json').tier ?? null;
      // An agent's own keys stay within its caller's tier, or it could raise its own limit.
      if (principal.kind === 'agent') {
        if (requested !== null && requested !== principal.tier) {
          throw new AuthFailure('forbidden', 'only the admin may issue a key of another tier');
        }
        requested = principal.tier;
      }
      if (requested !== null) requireKnownTier(deps.policy, requested);
      const key = await issueApiKey();
      const row = await firstRow<{ tier: string }>(
        db,
        sql`insert into api_key (id, agent_id, hash, tier)
            select ${key.keyId}, id, ${key.hash}, coalesce(${requested}::text, tier) from agent where id = ${id}
            returning tier`,
      ).catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new RelayError('id_conflict', 'key id collision; try again');
        throw error;
      });
      if (!row) throw notFound(`agent ${id}`);
      return c.json({ key_id: key.keyId, api_key: key.apiKey, tier: row.tier }, 201);
    })
    .openapi(revokeKey, async (c) => {
      const { id, key_id } = c.req.valid('param');
      requireManage(c.get('principal'), id);
      const revoked = await firstRow<{ id: string }>(
        db,
        sql`update api_key set revoked_at = now() where id = ${key_id} and agent_id = ${id} and revoked_at is null
            returning id`,
      );
      if (!revoked) throw notFound(`API key ${key_id} of agent ${id}`);
      keyCache.evict((k) => k.keyId === key_id);
      return c.body(null, 204);
    })
    .openapi(rotateSecret, async (c) => {
      const { id } = c.req.valid('param');
      requireManage(c.get('principal'), id);
      const hmacSecret = toHex(randomBytes(32));
      const sealed = await secrets.seal(hmacSecret);
      const row = await firstRow<{ id: string }>(
        db,
        sql`update agent set hmac_secret = ${sealed} where id = ${id} returning id`,
      );
      if (!row) throw notFound(`agent ${id}`);
      agents.evict(id);
      return c.json({ agent_id: id, hmac_secret: hmacSecret }, 201);
    });
}
