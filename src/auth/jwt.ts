import {
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  importJWK,
  importSPKI,
  type JWK,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { AGENT_ID_PATTERN } from '../envelope.js';
import { RelayError } from '../errors.js';
import { AuthFailure } from './failure.js';
import { type Grants, grantsFromClaim } from './grants.js';

export interface JwtSettings {
  secret: string | undefined;
  /** A PEM SPKI public key or a JWK, as text. */
  publicKey: string | undefined;
  jwksUrl: string | undefined;
  issuer: string | undefined;
  audience: string | undefined;
}

export type JwtIdentity = { kind: 'admin' } | { kind: 'agent'; agentId: string; grants: Grants };

type PublicAlg = 'EdDSA' | 'ES256' | 'RS256';
const PUBLIC_ALGS: PublicAlg[] = ['EdDSA', 'ES256', 'RS256'];
// Small clocks drift; more than this and an expired token would live on noticeably.
const CLOCK_TOLERANCE_SEC = 30;
/** Compact JWS: three base64url segments; anything else is treated as an API key. */
export const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The algorithm a JWK or PEM key is for, from the key itself rather than the token's header. */
async function importPublicKey(text: string): Promise<{ alg: PublicAlg; key: CryptoKey | Uint8Array }> {
  if (text.trimStart().startsWith('{')) {
    const jwk = JSON.parse(text) as JWK;
    const alg = (jwk.alg ??
      (jwk.kty === 'OKP'
        ? 'EdDSA'
        : jwk.kty === 'EC'
          ? 'ES256'
          : jwk.kty === 'RSA'
            ? 'RS256'
            : '')) as PublicAlg;
    if (!PUBLIC_ALGS.includes(alg))
      throw new Error('JWT_PUBLIC_KEY: the JWK must be an Ed25519, P-256 or RSA key');
    return { alg, key: await importJWK(jwk, alg) };
  }
  for (const alg of PUBLIC_ALGS) {
    try {
      return { alg, key: await importSPKI(text, alg) };
    } catch {
      // Not a key of this type; try the next.
    }
  }
  throw new Error('JWT_PUBLIC_KEY: not a PEM public key for EdDSA, ES256 or RS256');
}

class JwksUnavailable extends Error {}

/** Verifies bearer JWTs (SPEC: Authentication) against whichever keys the configuration names. */
export class JwtVerifier {
  /** Rejects when JWT_PUBLIC_KEY cannot be read; the Node entry awaits it to refuse to start. */
  readonly ready: Promise<unknown>;
  private readonly algorithms: string[];
  /** Resolves to undefined when the key could not be read, so tokens fail as invalid rather than 500. */
  private readonly publicKey: Promise<Awaited<ReturnType<typeof importPublicKey>> | undefined> | undefined;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly secret: Uint8Array | undefined;

  constructor(private readonly settings: JwtSettings) {
    this.secret = settings.secret === undefined ? undefined : new TextEncoder().encode(settings.secret);
    const imported = settings.publicKey === undefined ? undefined : importPublicKey(settings.publicKey);
    this.ready = imported ?? Promise.resolve();
    this.ready.catch(() => {});
    this.publicKey = imported?.catch(() => undefined);
    this.jwks = settings.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(settings.jwksUrl));
    this.algorithms = [...(this.secret ? ['HS256'] : []), ...(this.jwks ? PUBLIC_ALGS : [])];
  }

  private readonly keyFor = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (header.alg === 'HS256' && this.secret) return this.secret;
    const pinned = await this.publicKey;
    if (pinned && pinned.alg === header.alg) return pinned.key;
    if (!this.jwks) throw new errors.JOSEAlgNotAllowed('no key for this algorithm');
    try {
      return await this.jwks(header, token);
    } catch (error) {
      if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout)) throw error;
      throw new JwksUnavailable(error instanceof Error ? error.message : String(error));
    }
  };

  async verify(token: string, now: number): Promise<JwtIdentity> {
    const pinned = await this.publicKey;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keyFor, {
        algorithms: pinned ? [...this.algorithms, pinned.alg] : this.algorithms,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SEC,
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof JwksUnavailable) {
        throw new RelayError('unavailable', 'the relay cannot reach its JWKS endpoint to check this token');
      }
      if (error instanceof errors.JWTExpired) {
        throw new AuthFailure('expired_jwt', 'the JWT has expired', agentIdOf(error.payload.sub));
      }
      const why = error instanceof errors.JOSEError ? `: ${error.message}` : '';
      throw new AuthFailure('invalid_jwt', `the JWT is not valid${why}`);
    }
    const agentId = agentIdOf(payload.sub);
    if (!agentId) throw new AuthFailure('invalid_jwt', 'the JWT sub claim must be an agent id');
    const grants = grantsFromClaim(payload.permissions);
    if (!grants)
      throw new AuthFailure('invalid_jwt', 'the JWT permissions claim must be an array of strings', agentId);
    return grants === 'admin' ? { kind: 'admin' } : { kind: 'agent', agentId, grants };
  }
}

const agentIdOf = (sub: unknown) => (typeof sub === 'string' && AGENT_ID_PATTERN.test(sub) ? sub : undefined);
