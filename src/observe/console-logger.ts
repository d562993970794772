import type { Logger } from './logger.js';

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type Level = (typeof LEVELS)[number];

/**
 * One JSON object per line on the console, in the same shape as the Node runtime's pino lines.
 * Workers have no stdout: Workers Logs and `wrangler tail` collect console output and index the
 * fields of a line that is JSON.
 */
export function createConsoleLogger(level: Level): Logger {
  const threshold = LEVELS.indexOf(level);
  const write = (at: Exclude<Level, 'silent'>) => (fields: object, message?: string) => {
    if (LEVELS.indexOf(at) < threshold) return;
    const line = JSON.stringify({ level: at, timestamp: new Date().toISOString(), ...fields, message });
    if (at === 'error') console.error(line);
    else if (at === 'warn') console.warn(line);
    else console.log(line);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
