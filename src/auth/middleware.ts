import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.js';
import type { Deps } from '../deps.js';
import { RelayError } from '../errors.js';
import { verifyApiKey } from './api-key.js';
import { constantTimeEqual } from './crypto.js';
import type { Principal } from './principal.js';

const BEARER = /^Bearer ([\x21-\x7e]{1,4096})$/;

async function resolve(deps: Deps, authorization: string | undefined): Promise<Principal> {
  if (!authorization)
    throw new RelayError('unauthorized', 'send credentials: Authorization: Bearer <api key>');
  const token = BEARER.exec(authorization)?.[1];
  if (!token) throw new RelayError('unauthorized', 'the Authorization header must be "Bearer <token>"');
  if (await constantTimeEqual(token, deps.config.apiKey)) return { kind: 'admin' };
  const key = await verifyApiKey(deps.db, deps.keyCache, token, deps.clock.now());
  if (!key) throw new RelayError('unauthorized', 'the API key is unknown or revoked');
  return { kind: 'agent', ...key };
}

/** Establishes the caller for every route behind it, or answers 401. */
export const authenticate = (deps: Deps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set('principal', await resolve(deps, c.req.header('authorization')));
    await next();
  });
