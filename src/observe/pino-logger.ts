import pino from 'pino';
import type { Logger } from './logger.js';

/** JSON lines on stdout with ISO timestamps; the Node runtime's logger. */
export function createPinoLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    messageKey: 'message',
  });
}
