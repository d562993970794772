import { createApp, openApiDocument } from './app.js';
import { KeyCache } from './auth/api-key.js';
import { SecretBox } from './auth/crypto.js';
import { parseConfig } from './config.js';
import type { Db } from './db/database.js';
import { silentLogger } from './observe/logger.js';
import { VERSION } from './version.js';

/** The OpenAPI document as the committed spec/openapi.json holds it: built from the routes alone. */
export function openApiJson(): string {
  const app = createApp({
    config: parseConfig({}),
    db: undefined as unknown as Db,
    clock: { now: () => 0 },
    logger: silentLogger,
    keyCache: new KeyCache(),
    secrets: new SecretBox('document-only'),
    version: VERSION,
    ping: async () => {},
  });
  return `${JSON.stringify(openApiDocument(app), null, 2)}\n`;
}
