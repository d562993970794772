import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';

const hmacHeader = (name: string, description: string) => ({
  type: 'apiKey' as const,
  in: 'header' as const,
  name,
  description,
});

/** The credentials `credentials` (routes/common.ts) names, as docs/security.md describes them. */
export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>): void {
  const schemes = {
    apiKey: {
      type: 'http',
      scheme: 'bearer',
      description:
        'The admin key, or an agent API key (`admp_<key id>_<secret>`). Each key has a tier with a ' +
        'requests-per-minute limit; over it the relay answers 429 with Retry-After.',
    },
    jwt: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'A JWT (HS256, EdDSA, ES256 or RS256) whose `sub` is the agent id; `permissions` lists `send`, ' +
        '`send:<glob>`, `pull` or `admin` (default `["send","pull"]`). `exp` is required.',
    },
    metricsToken: {
      type: 'http',
      scheme: 'bearer',
      description: '`METRICS_TOKEN`, when the relay sets one; otherwise /metrics is open.',
    },
    hmacAgentId: hmacHeader('X-Agent-Id', 'HMAC: the calling agent'),
    hmacTimestamp: hmacHeader('X-Timestamp', 'HMAC: unix seconds, within 300 s of the relay’s clock'),
    hmacSignature: hmacHeader(
      'X-Signature',
      'HMAC: lowercase hex HMAC-SHA256 under the agent’s hmac_secret of ' +
        '`timestamp \\n METHOD \\n path_with_query \\n hex(sha256(body))`; each signature is accepted once',
    ),
  } as const;
  for (const [name, scheme] of Object.entries(schemes)) {
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  }
}
