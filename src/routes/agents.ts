import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../app-env.js';
import { issueApiKey } from '../auth/api-key.js';
import { randomBytes, toHex } from '../auth/crypto.js';
import { maySendTo } from '../auth/grants.js';
import { requireActsFor, requireAdmin, requireManage } from '../auth/principal.js';
import { firstRow, isoOrNull, rows } from '../db/database.js';
import type { Deps } from '../deps.js';
import { agentId } from '../envelope.js';
import { notFound, RelayError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../inbox/cursor.js';
import { mayReach } from '../policy/evaluate.js';
import { DEFAULT_TIER } from '../policy/tiers.js';
import {
  AgentParam,
  credentials,
  cursorQuery,
  json,
  jsonBody,
  limitQuery,
  pick,
  requireKnownTier,
  tier,
} from './common.js';

const AgentSchema = z
  .object({
    agent_id: z.string(),
    tier: z.string(),
    require_signature: z.boolean(),
    created_at: z.string(),
    last_seen: z.string().nullable(),
  })
  .openapi('Agent');

const Registered = z
  .object({
    agent_id: z.string(),
    api_key: z.string(),
    hmac_secret: z.string(),
    tier: z.string(),
    require_signature: z.boolean(),
  })
  .openapi('RegisteredAgent');

const requireSignature = z
  .boolean()
  .openapi({ description: 'Refuse envelopes from this agent unless they carry a valid Ed25519 signature' });

const register = createRoute({
  method: 'post',
  path: '/v1/agents',
  operationId: 'registerAgent',
  tags: ['Agents'],
  summary: 'Register an agent (admin)',
  description: 'Returns the agent’s first API key and its HMAC secret. Both are shown once and never again.',
  security: credentials,
  request: {
    body: jsonBody(
      z
        .object({ agent_id: agentId, tier: tier.optional(), require_signature: requireSignature.optional() })
        .strict(),
    ),
  },
  responses: { 201: json(Registered, 'Registered'), ...pick(400, 415, 401, 403, 409, 422, 429) },
});

const ListedAgentSchema = AgentSchema.extend({
  online: z.boolean().openapi({ description: 'Has a live session or an open WebSocket' }),
}).openapi('ListedAgent');

const list = createRoute({
  method: 'get',
  path: '/v1/agents',
  operationId: 'listAgents',
  tags: ['Agents'],
  summary: 'List agents',
  description:
    'By id, `limit` at a time; pass `next_cursor` back as `cursor` for the next page (null at the end). The admin ' +
    'sees every agent; an agent sees those it may send to under the policy and its credentials, for discovery.',
  security: credentials,
  request: { query: z.object({ limit: limitQuery, cursor: cursorQuery }) },
  responses: {
    200: json(
      z
        .object({ agents: z.array(ListedAgentSchema), next_cursor: z.string().nullable() })
        .openapi('AgentPage'),
      'A page of agents',
    ),
    ...pick(401, 422, 429),
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/agents/{id}',
  operationId: 'getAgent',
  tags: ['Agents'],
  summary: 'Get an agent',
  security: credentials,
  request: { params: AgentParam },
  responses: { 200: json(AgentSchema, 'The agent'), ...pick(401, 403, 404, 422, 429) },
});

const update = createRoute({
  method: 'patch',
  path: '/v1/agents/{id}',
  operationId: 'updateAgent',
  tags: ['Agents'],
  summary: 'Update an agent (admin)',
  description:
    'A new tier applies to HMAC and JWT requests and to keys issued later; existing API keys keep theirs. ' +
    'Takes effect at once on this relay process and within 60 seconds on every other one.',
  security: credentials,
  request: {
    params: AgentParam,
    body: jsonBody(
      z.object({ tier: tier.optional(), require_signature: requireSignature.optional() }).strict(),
    ),
  },
  responses: { 200: json(AgentSchema, 'The agent as changed'), ...pick(400, 415, 401, 403, 404, 422, 429) },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}',
  operationId: 'deleteAgent',
  tags: ['Agents'],
  summary: 'Delete an agent',
  security: credentials,
  request: { params: AgentParam },
  responses: { 204: { description: 'Deleted' }, ...pick(401, 403, 404, 422, 429) },
});

interface AgentRow {
  id: string;
  tier: string;
  require_signature: boolean;
  created_at: Date | string;
  last_seen: Date | string | null;
}

const AGENT_COLUMNS = sql`id, tier, require_signature, created_at, last_seen`;

const renderAgent = (a: AgentRow) => ({
  agent_id: a.id,
  tier: a.tier,
  require_signature: a.require_signature,
  created_at: isoOrNull(a.created_at) as string,
  last_seen: isoOrNull(a.last_seen),
});

export function agentRoutes(deps: Deps) {
  const { db, keyCache, agents, signingKeys, secrets } = deps;
  return new OpenAPIHono<AppEnv>()
    .openapi(register, async (c) => {
      requireAdmin(c.get('principal'));
      const body = c.req.valid('json');
      const { agent_id, tier: agentTier = DEFAULT_TIER, require_signature = false } = body;
      requireKnownTier(deps.policy, agentTier);
      const hmacSecret = toHex(randomBytes(32));
      const key = await issueApiKey();
      const sealed = await secrets.seal(hmacSecret);
      // One statement, so an agent never exists without its first key.
      const created = await firstRow<{ id: string }>(
        db,
        sql`with created as (
              insert into agent (id, tier, hmac_secret, require_signature)
              values (${agent_id}, ${agentTier}, ${sealed}, ${require_signature})
              on conflict (id) do nothing returning id
            )
            insert into api_key (id, agent_id, hash, tier)
            select ${key.keyId}, id, ${key.hash}, ${agentTier} from created
            returning agent_id as id`,
      );
      if (!created) throw new RelayError('id_conflict', `agent ${agent_id} already exists`);
      return c.json(
        { agent_id, api_key: key.apiKey, hmac_secret: hmacSecret, tier: agentTier, require_signature },
        201,
      );
    })
    .openapi(list, async (c) => {
      const principal = c.get('principal');
      const { limit, cursor } = c.req.valid('query');
      const visible = (id: string) =>
        principal.kind === 'admin' ||
        (id !== principal.agentId &&
          maySendTo(principal.grants, id) &&
          mayReach(deps.policy, principal.agentId, id));
      const page = await listAgents(db, { limit, cursor }, visible);
      return c.json(
        {
          agents: page.agents.map((a) => ({ ...renderAgent(a), online: a.online })),
          next_cursor: page.next_cursor,
        },
        200,
      );
    })
    .openapi(get, async (c) => {
      const { id } = c.req.valid('param');
      requireActsFor(c.get('principal'), id);
      const found = await firstRow<AgentRow>(db, sql`select ${AGENT_COLUMNS} from agent where id = ${id}`);
      if (!found) throw notFound(`agent ${id}`);
      return c.json(renderAgent(found), 200);
    })
    .openapi(update, async (c) => {
      requireAdmin(c.get('principal'));
      const { id } = c.req.valid('param');
      const { tier: newTier = null, require_signature = null } = c.req.valid('json');
      if (newTier !== null) requireKnownTier(deps.policy, newTier);
      const changed = await firstRow<AgentRow>(
        db,
        sql`update agent set tier = coalesce(${newTier}::text, tier),
              require_signature = coalesce(${require_signature}::boolean, require_signature)
            where id = ${id} returning ${AGENT_COLUMNS}`,
      );
      if (!changed) throw notFound(`agent ${id}`);
      agents.evict(id);
      return c.json(renderAgent(changed), 200);
    })
    .openapi(remove, async (c) => {
      const { id } = c.req.valid('param');
      requireManage(c.get('principal'), id);
      const gone = await firstRow<{ id: string }>(db, sql`delete from agent where id = ${id} returning id`);
      if (!gone) throw notFound(`agent ${id}`);
      keyCache.evict((k) => k.agentId === id);
      agents.evict(id);
      signingKeys.evict(id);
      return c.body(null, 204);
    });
}

const isIdKey = (key: unknown): key is [string] =>
  Array.isArray(key) && key.length === 1 && typeof key[0] === 'string';

/**
 * Agents by id after the cursor, those `visible` only. Reads in pages of the primary key until this
 * one is full, so an agent the policy hides never leaves a page short while more remain.
 */
async function listAgents(
  db: Deps['db'],
  page: { limit: number; cursor?: string | undefined },
  visible: (id: string) => boolean,
): Promise<{ agents: (AgentRow & { online: boolean })[]; next_cursor: string | null }> {
  let [after] = page.cursor ? decodeCursor(page.cursor, isIdKey) : [''];
  const shown: (AgentRow & { online: boolean })[] = [];
  for (;;) {
    const found = await rows<AgentRow & { online: boolean }>(
      db,
      sql`select ${AGENT_COLUMNS},
            exists (select 1 from session s where s.agent_id = agent.id and s.expires_at > now()) as online
          from agent where id > ${after} order by id limit ${page.limit + 1}`,
    );
    for (const a of found) {
      if (!visible(a.id)) continue;
      if (shown.length === page.limit) return { agents: shown, next_cursor: encodeCursor([after]) };
      shown.push(a);
      after = a.id;
    }
    if (found.length <= page.limit) return { agents: shown, next_cursor: null };
    after = (found.at(-1) as AgentRow).id;
  }
}
