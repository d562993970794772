import { z } from 'zod';
import type { JwtSettings } from './auth/jwt.js';

const seconds = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3030),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  ADMP_DATA_DIR: z.string().min(1).default('./.admp/data'),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  POLICY_FILE: z.string().min(1).optional(),
  REQUIRE_SIGNATURES: z.stringbool().default(false),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters (256 bits for HS256)').optional(),
  // A PEM may arrive with its newlines escaped as \n, as env files and secret stores often hold it.
  JWT_PUBLIC_KEY: z
    .string()
    .transform((key) => key.replaceAll('\\n', '\n'))
    .refine((key) => /^\s*(-----BEGIN PUBLIC KEY-----|\{)/.test(key), 'must be a PEM public key or a JWK')
    .optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  LEASE_RECLAIM_INTERVAL_SEC: seconds(30),
  TTL_CHECK_INTERVAL_SEC: seconds(60),
  MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  MESSAGE_RETENTION_SEC: seconds(604_800, 0),
  AUDIT_RETENTION_SEC: seconds(7_776_000, 0),
  AUDIT_MESSAGES: z.stringbool().default(true),
  METRICS_ENABLED: z.stringbool().default(true),
  POLICY_REFRESH_SEC: seconds(5),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_MAX_SERIES: z.coerce.number().int().min(10).max(1_000_000).default(2000),
  SHUTDOWN_TIMEOUT_SEC: seconds(10),
  HEARTBEAT_INTERVAL_SEC: z.coerce.number().int().min(1).max(3600).default(30),
  WS_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(10),
  NOTIFY_DEBOUNCE_MS: z.coerce.number().int().min(0).max(1000).default(10),
  NEON_WS_PROXY: z
    .string()
    .regex(/^(?![a-z]+:\/\/)\S+$/, 'must be host[:port][/path], without a scheme')
    .optional(),
  NEON_WS_SECURE: z.enum(['true', 'false']).default('true'),
  NEON_HTTP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** The admin key: may call every endpoint and act for any agent. */
  apiKey: string;
  /** Encrypts stored HMAC secrets; derived from the admin key when not set. */
  secretKey: string;
  /** YAML with `tiers` (and `policies`); the entry reads it, core modules touch no files. */
  policyFile: string | undefined;
  /** Every envelope must be signed (FR-24), whatever its sender's own setting. */
  requireSignatures: boolean;
  /** Undefined when no JWT key is configured: bearer JWTs are then refused. */
  jwt: JwtSettings | undefined;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  dataDir: string;
  leaseReclaimIntervalSec: number;
  ttlCheckIntervalSec: number;
  maxAttempts: number;
  /** Acked and dead messages older than this are deleted; 0 keeps them forever. */
  messageRetentionSec: number;
  /** audit_log rows older than this are deleted; 0 keeps them forever. */
  auditRetentionSec: number;
  /** False keeps only authentication and policy events in audit_log, not every message transition. */
  auditMessages: boolean;
  /** False turns /metrics off (404) and skips every counter update. */
  metricsEnabled: boolean;
  /** How often each process re-reads the published policy (src/policy/store.ts). */
  policyRefreshSec: number;
  /** When set, GET /metrics wants `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** Series per metric before agent labels fold into `_other` (src/observe/series-guard.ts). */
  metricsMaxSeries: number;
  shutdownTimeoutSec: number;
  /** Sessions and WebSockets: a session lives two of these without a heartbeat; sockets are pinged at this rate. */
  heartbeatIntervalSec: number;
  /** Pushes a WebSocket may hold unacked; further messages wait in the inbox until one is settled. */
  wsMaxInFlight: number;
  /** Cross-process wake-ups are batched into at most one NOTIFY per this many milliseconds. */
  notifyDebounceMs: number;
  /** Workers only: how @neondatabase/serverless reaches PostgreSQL (docs/deploy-workers.md). */
  neon: { wsProxy: string | undefined; wsSecure: boolean; httpEndpoint: string | undefined };
}

export const DEV_ADMIN_KEY = 'dev-admin-key';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** The only reader of the environment. Reports every bad key at once rather than the first. */
export function parseConfig(env: Env): Config {
  // Empty strings mean "unset", as they do in most shells and compose files.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.API_KEY) {
    throw new ConfigError(['API_KEY: required when NODE_ENV=production']);
  }
  const apiKey = e.API_KEY ?? DEV_ADMIN_KEY;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    apiKey,
    secretKey: e.SECRET_KEY ?? `admp-secret-key:${apiKey}`,
    policyFile: e.POLICY_FILE,
    requireSignatures: e.REQUIRE_SIGNATURES,
    jwt:
      e.JWT_SECRET || e.JWT_PUBLIC_KEY || e.JWT_JWKS_URL
        ? {
            secret: e.JWT_SECRET,
            publicKey: e.JWT_PUBLIC_KEY,
            jwksUrl: e.JWT_JWKS_URL,
            issuer: e.JWT_ISSUER,
            audience: e.JWT_AUDIENCE,
          }
        : undefined,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: e.ADMP_DATA_DIR,
    leaseReclaimIntervalSec: e.LEASE_RECLAIM_INTERVAL_SEC,
    ttlCheckIntervalSec: e.TTL_CHECK_INTERVAL_SEC,
    maxAttempts: e.MAX_ATTEMPTS,
    messageRetentionSec: e.MESSAGE_RETENTION_SEC,
    auditRetentionSec: e.AUDIT_RETENTION_SEC,
    auditMessages: e.AUDIT_MESSAGES,
    metricsEnabled: e.METRICS_ENABLED,
    policyRefreshSec: e.POLICY_REFRESH_SEC,
    metricsToken: e.METRICS_TOKEN,
    metricsMaxSeries: e.METRICS_MAX_SERIES,
    shutdownTimeoutSec: e.SHUTDOWN_TIMEOUT_SEC,
    heartbeatIntervalSec: e.HEARTBEAT_INTERVAL_SEC,
    wsMaxInFlight: e.WS_MAX_IN_FLIGHT,
    notifyDebounceMs: e.NOTIFY_DEBOUNCE_MS,
    neon: {
      wsProxy: e.NEON_WS_PROXY,
      wsSecure: e.NEON_WS_SECURE === 'true',
      httpEndpoint: e.NEON_HTTP_ENDPOINT,
    },
  };
}
