import { describe, expect, it } from 'vitest';
import { runOnDrizzle } from '../src/db/statements.js';
import { BufferedAuditLog } from '../src/observe/audit.js';
import type { Logger } from '../src/observe/logger.js';
import { openTestDatabase } from './support/test-database.js';

const MARKER = 'confidential-body-text';

function recordingLogger(lines: string[]): Logger {
  const record = (level: string) => (fields: object, message?: string) =>
    lines.push(JSON.stringify({ level, message, ...fields }));
  return { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

describe('error logs while the database is down', () => {
  // Both ways the relay runs statements: its prepared ones, and Drizzle's (Workers, Neon), whose
  // errors spell out the whole statement with every parameter.
  for (const via of ['the driver', 'Drizzle'] as const) {
    it(`hold one short line per failed audit flush, without the rows it could not write (via ${via})`, async () => {
      const { database } = await openTestDatabase();
      const run = via === 'Drizzle' ? runOnDrizzle(database.db) : database.run;
      await database.close();
      const lines: string[] = [];
      const audit = new BufferedAuditLog(run, recordingLogger(lines), Date.now);
      for (let i = 0; i < 400; i++) {
        audit.record({ event: 'message.sent', agentId: 'a', detail: { subject: MARKER.repeat(20) } });
      }
      await audit.flush();

      const failures = lines.filter((line) => line.includes('audit log write failed'));
      expect(failures).toHaveLength(1);
      expect(failures[0]?.length).toBeLessThan(2048);
      expect(failures[0]).not.toContain(MARKER);
      expect(JSON.parse(failures[0] as string)).toMatchObject({ level: 'error', pending: 400 });
    }, 120_000); // a database of its own, migrated then closed: slow on a loaded machine
  }
});
