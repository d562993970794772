import { dirname } from 'node:path';
import type { cloudflareTest } from '@cloudflare/vitest-pool-workers';

type PoolOptions = Parameters<typeof cloudflareTest>[0];

/** The admin key the workerd suite configures; test-workers/ reads it from the bindings. */
export const WORKERD_ADMIN_KEY = 'workerd-admin-key-0123456789';
export const BUNDLE_WORKER = 'admp-relay-bundle';

/**
 * The workerd project: the relay's own Worker (wrangler.toml's main, compatibility date and
 * crons) with bindings that reach the suite's PostgreSQL through the local Neon proxy, plus the
 * deploy bundle as a second Worker with exactly wrangler.toml's compatibility settings, which the
 * tests reach through the BUNDLE service binding.
 */
export const workerdPool: PoolOptions = ({ inject }) => {
  const wrangler = inject('wrangler');
  const bundle = inject('workerBundle').scriptPath;
  const bindings = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    API_KEY: WORKERD_ADMIN_KEY,
    DATABASE_URL: inject('workersDatabaseUrl'),
    NEON_WS_PROXY: inject('neonWsProxy'),
    NEON_WS_SECURE: 'false',
  };
  return {
    wrangler: { configPath: './wrangler.toml' },
    miniflare: {
      bindings: { ...bindings, TEST_NEON_HTTP_ENDPOINT: inject('neonHttpEndpoint') },
      serviceBindings: { BUNDLE: BUNDLE_WORKER },
      workers: [
        {
          name: BUNDLE_WORKER,
          // Listed rather than discovered: Miniflare's discovery refuses the computed import() the JS
          // SDK keeps for its optional `ws` fallback, which a Worker never reaches (and Cloudflare
          // accepts in an upload).
          modules: [{ type: 'ESModule', path: bundle }],
          modulesRoot: dirname(bundle),
          compatibilityDate: wrangler.compatibilityDate,
          compatibilityFlags: wrangler.compatibilityFlags,
          bindings,
        },
      ],
    },
  };
};
