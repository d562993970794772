import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../app-env.js';
import { fromBase64, toBase64Url } from '../auth/crypto.js';
import { requireManage } from '../auth/principal.js';
import { readPublicKey } from '../auth/signature.js';
import { firstRow, isoOrNull, isUniqueViolation, rows } from '../db/database.js';
import type { Deps } from '../deps.js';
import { notFound, RelayError } from '../errors.js';
import { AgentParam, credentials, json, jsonBody, pick } from './common.js';

const kid = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'must be 1-128 letters, digits, dots, colons, dashes or underscores',
  )
  .openapi({ example: '2025-10' });

const SigningKey = z
  .object({ agent_id: z.string(), kid: z.string(), public_key: z.string(), created_at: z.string() })
  .openapi('SigningKey');

const register = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/keys',
  operationId: 'addSigningKey',
  tags: ['Keys'],
  summary: 'Register a signing key',
  description:
    'An agent may hold several active keys, so a new one can be rolled out before the old is revoked. ' +
    'A kid is never reused, not even after its key is revoked.',
  security: credentials,
  request: {
    params: AgentParam,
    body: jsonBody(
      z
        .object({
          kid,
          public_key: z
            .string()
            .refine(
              (k) => readPublicKey(k) !== undefined,
              'must be a standard-base64 32-byte Ed25519 public key',
            )
            .openapi({ example: 'A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=' }),
        })
        .strict(),
    ),
  },
  responses: { 201: json(SigningKey, 'Registered'), ...pick(400, 415, 401, 403, 404, 409, 422, 429) },
});

const revoke = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}/keys/{kid}',
  operationId: 'revokeSigningKey',
  tags: ['Keys'],
  summary: 'Revoke a signing key',
  description: 'Envelopes signed with it are refused from then on, on every relay process at once.',
  security: credentials,
  request: { params: AgentParam.extend({ kid: kid.openapi({ param: { name: 'kid', in: 'path' } }) }) },
  responses: { 204: { description: 'Revoked' }, ...pick(401, 403, 404, 422, 429) },
});

const Directory = z
  .object({
    keys: z.array(
      z.object({
        kid: z.string(),
        agent_id: z.string(),
        kty: z.literal('OKP'),
        crv: z.literal('Ed25519'),
        x: z.string().openapi({ description: 'The raw public key, base64url without padding (RFC 8037)' }),
      }),
    ),
  })
  .openapi('KeyDirectory');

const directory = createRoute({
  method: 'get',
  path: '/.well-known/agent-keys.json',
  operationId: 'getKeyDirectory',
  tags: ['Keys'],
  summary: 'List every active signing key',
  security: [],
  responses: { 200: json(Directory, 'Active keys by agent and kid') },
});

/** Signing keys under /v1 (authenticated); the public directory is `keyDirectoryRoutes`. */
export function signingKeyRoutes(deps: Deps) {
  const { db, signingKeys } = deps;
  return new OpenAPIHono<AppEnv>()
    .openapi(register, async (c) => {
      const { id } = c.req.valid('param');
      requireManage(c.get('principal'), id);
      const body = c.req.valid('json');
      const row = await firstRow<{ created_at: Date | string }>(
        db,
        sql`insert into agent_key (agent_id, kid, public_key)
            select id, ${body.kid}, ${body.public_key} from agent where id = ${id}
            returning created_at`,
      ).catch((error: unknown) => {
        if (isUniqueViolation(error))
          throw new RelayError('id_conflict', `agent ${id} already used kid ${body.kid}`);
        throw error;
      });
      if (!row) throw notFound(`agent ${id}`);
      const created_at = isoOrNull(row.created_at) as string;
      return c.json({ agent_id: id, kid: body.kid, public_key: body.public_key, created_at }, 201);
    })
    .openapi(revoke, async (c) => {
      const { id, kid: keyId } = c.req.valid('param');
      requireManage(c.get('principal'), id);
      const revoked = await firstRow<{ kid: string }>(
        db,
        sql`update agent_key set revoked_at = now() where agent_id = ${id} and kid = ${keyId} and revoked_at is null
            returning kid`,
      );
      if (!revoked) throw notFound(`active signing key ${keyId} of agent ${id}`);
      signingKeys.evict(id, keyId);
      return c.body(null, 204);
    });
}

export function keyDirectoryRoutes(deps: Deps) {
  return new OpenAPIHono<AppEnv>().openapi(directory, async (c) => {
    const active = await rows<{ agent_id: string; kid: string; public_key: string }>(
      deps.db,
      sql`select agent_id, kid, public_key from agent_key where revoked_at is null order by agent_id, kid`,
    );
    const keys = active.map((k) => ({
      kid: k.kid,
      agent_id: k.agent_id,
      kty: 'OKP' as const,
      crv: 'Ed25519' as const,
      x: toBase64Url(fromBase64(k.public_key)),
    }));
    // Outside verifiers may cache it for a minute, so a revocation reaches them that much later.
    c.header('Cache-Control', 'public, max-age=60');
    return c.json({ keys }, 200);
  });
}
