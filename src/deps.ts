import type { KeyCache } from './auth/api-key.js';
import type { SecretBox } from './auth/crypto.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import type { Logger } from './observe/logger.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Everything a request may touch beyond its own input; built by an entry file, never a global. */
export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  keyCache: KeyCache;
  secrets: SecretBox;
  version: string;
  /** Answers whether the database can be reached; /health asks it. */
  ping(): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now() };
