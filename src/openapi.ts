import { createApp, openApiDocument } from './app.js';
import { parseConfig } from './config.js';
import type { Db } from './db/database.js';
import { createDeps } from './deps.js';
import { silentLogger } from './observe/logger.js';
import { defaultPolicy } from './policy/load.js';

/** The OpenAPI document as the committed spec/openapi.json holds it: built from the routes alone. */
export function openApiJson(): string {
  const deps = createDeps({
    config: parseConfig({}),
    db: undefined as unknown as Db,
    logger: silentLogger,
    policy: defaultPolicy(),
  });
  const app = createApp(deps);
  return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
}
