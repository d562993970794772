import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../app-env.js';
import { issueApiKey } from '../auth/api-key.js';
import { randomBytes, toHex } from '../auth/crypto.js';
import { isAdmin, requireActsFor, requireAdmin } from '../auth/principal.js';
import { firstRow, isoOrNull, isUniqueViolation, rows } from '../db/database.js';
import type { Deps } from '../deps.js';
import { agentId } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';
import { AgentParam, bearer, json, jsonBody, pick } from './common.js';

const tier = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a tier name such as standard')
  .openapi({ example: 'standard' });

const AgentSchema = z
  .object({
    agent_id: z.string(),
    tier: z.string(),
    created_at: z.string(),
    last_seen: z.string().nullable(),
  })
  .openapi('Agent');

const Registered = z
  .object({ agent_id: z.string(), api_key: z.string(), hmac_secret: z.string(), tier: z.string() })
  .openapi('RegisteredAgent');

const IssuedKey = z
  .object({ key_id: z.string(), api_key: z.string(), tier: z.string() })
  .openapi('IssuedApiKey');

const register = createRoute({
  method: 'post',
  path: '/v1/agents',
  summary: 'Register an agent (admin)',
  description: 'Returns the agent’s first API key and its HMAC secret. Both are shown once and never again.',
  security: bearer,
  request: { body: jsonBody(z.object({ agent_id: agentId, tier: tier.optional() }).strict()) },
  responses: { 201: json(Registered, 'Registered'), ...pick(400, 415, 401, 403, 409, 422) },
});

const list = createRoute({
  method: 'get',
  path: '/v1/agents',
  summary: 'List agents (admin)',
  security: bearer,
  responses: {
    200: json(z.object({ agents: z.array(AgentSchema) }), 'All agents, by id'),
    ...pick(401, 403),
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/agents/{id}',
  summary: 'Get an agent (admin or self)',
  security: bearer,
  request: { params: AgentParam },
  responses: { 200: json(AgentSchema, 'The agent'), ...pick(401, 403, 404, 422) },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}',
  summary: 'Delete an agent, its keys and its inbox (admin or self)',
  security: bearer,
  request: { params: AgentParam },
  responses: { 204: { description: 'Deleted' }, ...pick(401, 403, 404, 422) },
});

const issueKey = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/api-keys',
  summary: 'Issue another API key (admin or self)',
  description: 'An agent may issue keys of its own tier; only the admin may choose another tier.',
  security: bearer,
  request: { params: AgentParam, body: jsonBody(z.object({ tier: tier.optional() }).strict()) },
  responses: { 201: json(IssuedKey, 'The new key, shown once'), ...pick(400, 415, 401, 403, 404, 422) },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}/api-keys/{key_id}',
  summary: 'Revoke an API key (admin or self)',
  description: 'Takes effect at once on this relay process and within 60 seconds on every other one.',
  security: bearer,
  request: {
    params: AgentParam.extend({
      key_id: z
        .string()
        .regex(/^[0-9a-f]{16}$/, 'must be a key id')
        .openapi({ param: { name: 'key_id', in: 'path' } }),
    }),
  },
  responses: { 204: { description: 'Revoked' }, ...pick(401, 403, 404, 422) },
});

interface AgentRow {
  id: string;
  tier: string;
  created_at: Date | string;
  last_seen: Date | string | null;
}

const renderAgent = (a: AgentRow) => ({
  agent_id: a.id,
  tier: a.tier,
  created_at: isoOrNull(a.created_at) as string,
  last_seen: isoOrNull(a.last_seen),
});

export function agentRoutes(deps: Deps) {
  const { db, keyCache, secrets } = deps;
  return new OpenAPIHono<AppEnv>()
    .openapi(register, async (c) => {
      requireAdmin(c.get('principal'));
      const { agent_id, tier: agentTier = 'standard' } = c.req.valid('json');
      const hmacSecret = toHex(randomBytes(32));
      const key = await issueApiKey();
      const sealed = await secrets.seal(hmacSecret);
      // One statement, so an agent never exists without its first key.
      const created = await firstRow<{ id: string }>(
        db,
        sql`with created as (
              insert into agent (id, tier, hmac_secret) values (${agent_id}, ${agentTier}, ${sealed})
              on conflict (id) do nothing returning id
            )
            insert into api_key (id, agent_id, hash, tier)
            select ${key.keyId}, id, ${key.hash}, ${agentTier} from created
            returning agent_id as id`,
      );
      if (!created) throw new RelayError('id_conflict', `agent ${agent_id} already exists`);
      return c.json({ agent_id, api_key: key.apiKey, hmac_secret: hmacSecret, tier: agentTier }, 201);
    })
    .openapi(list, async (c) => {
      requireAdmin(c.get('principal'));
      const all = await rows<AgentRow>(
        db,
        sql`select id, tier, created_at, last_seen from agent order by id`,
      );
      return c.json({ agents: all.map(renderAgent) }, 200);
    })
    .openapi(get, async (c) => {
      const { id } = c.req.valid('param');
      requireActsFor(c.get('principal'), id);
      const found = await firstRow<AgentRow>(
        db,
        sql`select id, tier, created_at, last_seen from agent where id = ${id}`,
      );
      if (!found) throw notFound(`agent ${id}`);
      return c.json(renderAgent(found), 200);
    })
    .openapi(remove, async (c) => {
      const { id } = c.req.valid('param');
      requireActsFor(c.get('principal'), id);
      const gone = await firstRow<{ id: string }>(db, sql`delete from agent where id = ${id} returning id`);
      if (!gone) throw notFound(`agent ${id}`);
      keyCache.evict((k) => k.agentId === id);
      return c.body(null, 204);
    })
    .openapi(issueKey, async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      requireActsFor(principal, id);
      const requested = c.req.valid('json').tier;
      if (
        requested !== undefined &&
        !isAdmin(principal) &&
        principal.kind === 'agent' &&
        requested !== principal.tier
      ) {
        throw new RelayError('forbidden', 'only the admin may issue a key of another tier');
      }
      const key = await issueApiKey();
      const row = await firstRow<{ tier: string }>(
        db,
        sql`insert into api_key (id, agent_id, hash, tier)
            select ${key.keyId}, id, ${key.hash}, coalesce(${requested ?? null}::text, tier) from agent where id = ${id}
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
      requireActsFor(c.get('principal'), id);
      const revoked = await firstRow<{ id: string }>(
        db,
        sql`update api_key set revoked_at = now() where id = ${key_id} and agent_id = ${id} and revoked_at is null
            returning id`,
      );
      if (!revoked) throw notFound(`API key ${key_id} of agent ${id}`);
      keyCache.evict((k) => k.keyId === key_id);
      return c.body(null, 204);
    });
}
