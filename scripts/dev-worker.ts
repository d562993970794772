/**
 * `npm run dev:worker`: the Workers build under `wrangler dev`, offline, against a local
 * PostgreSQL. Workers cannot open TCP connections to PostgreSQL, and do not migrate, so this
 * applies the migrations with the Node migrator, starts the Neon-compatible proxy from the test
 * support code in front of the server, and points the Worker's bindings at it.
 *
 *   DATABASE_URL=postgres://postgres:postgres@localhost:5432/admp npm run dev:worker [-- wrangler dev options]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, DEV_ADMIN_KEY, parseConfig } from '../src/config.js';
import { openNodeDatabase } from '../src/db/node-database.js';
import { OFFLINE_WRANGLER_ENV } from '../test/support/worker-bundle.js';
import { startNeonProxy } from '../test/support/ws-proxy.js';

async function main() {
  const config = parseConfig({ NODE_ENV: 'development', ...process.env });
  if (!config.databaseUrl) {
    throw new ConfigError([
      'DATABASE_URL: required; the Worker has no embedded database (see docs/deploy-workers.md)',
    ]);
  }
  const database = await openNodeDatabase({ url: config.databaseUrl, poolSize: 1 });
  await database.migrate();
  await database.close();

  const proxy = await startNeonProxy(config.databaseUrl);
  const vars = {
    NODE_ENV: config.env,
    // Unset, the development key applies, as it does for `npm start`.
    ...(config.apiKey === DEV_ADMIN_KEY ? {} : { API_KEY: config.apiKey }),
    DATABASE_URL: config.databaseUrl,
    NEON_WS_PROXY: proxy.wsProxy,
    NEON_WS_SECURE: 'false',
    NEON_HTTP_ENDPOINT: proxy.httpEndpoint,
    LOG_LEVEL: config.logLevel,
  };
  // --test-scheduled adds /__scheduled?cron=… to fire a Cron Trigger by hand.
  const args = ['dev', '--ip', '127.0.0.1', '--test-scheduled', '--show-interactive-dev-session=false'];
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`);
  const wrangler = spawn(join('node_modules', '.bin', 'wrangler'), [...args, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...OFFLINE_WRANGLER_ENV },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => wrangler.kill(signal));
  wrangler.on('exit', async (code) => {
    await proxy.close();
    process.exit(code ?? 0);
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
