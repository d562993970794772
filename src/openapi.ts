import { createApp, openApiDocument } from './app.js';
import { parseConfig } from './config.js';
import type { Db } from './db/database.js';
import { createSecurity } from './deps.js';
import { silentLogger } from './observe/logger.js';
import { defaultPolicy } from './policy/load.js';
import { VERSION } from './version.js';

/** The OpenAPI document as the committed spec/openapi.json holds it: built from the routes alone. */
export function openApiJson(): string {
  const config = parseConfig({});
  const db = undefined as unknown as Db;
  const clock = { now: () => 0 };
  const app = createApp({
    config,
    db,
    clock,
    logger: silentLogger,
    ...createSecurity(config, db, silentLogger, clock),
    policy: defaultPolicy(),
    version: VERSION,
    ping: async () => {},
  });
  return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
}
