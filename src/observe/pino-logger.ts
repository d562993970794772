import pino from 'pino';
import type { Logger } from './logger.js';

/**
 * JSON lines with the fields FR-35 names: `timestamp` (ISO 8601), `level` as a word, `message`.
 * Lines go to stdout unless a destination is given (tests read them back).
 */
export function createPinoLogger(level: string, destination?: { write(line: string): void }): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    messageKey: 'message',
  };
  return destination ? pino(options, destination) : pino(options);
}
