import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeDatabase } from '../../src/db/node-database.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { InboxChange } from '../../src/realtime/hub.js';
import { PgHub } from '../../src/realtime/node-hub.js';
import { ENGINE, openTestDatabase } from '../support/test-database.js';

// The LISTEN/NOTIFY hub needs a PostgreSQL server; on PGlite the relay uses the in-process hub.
let database: NodeDatabase | undefined;
let url: string | undefined;

beforeAll(async () => {
  if (ENGINE !== 'postgres') return;
  ({ database, url } = await openTestDatabase());
});
afterAll(() => database?.close());

describe.runIf(ENGINE === 'postgres')('the LISTEN/NOTIFY hub', () => {
  it('carries each change to another process, never queueing a query behind another on its connection', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    // No debounce: every notify flushes on its own timer, so flushes overlap while NOTIFYs are in flight.
    const [sender, listener] = await Promise.all([
      PgHub.start({ url: url as string, logger: silentLogger, debounceMs: 0 }),
      PgHub.start({ url: url as string, logger: silentLogger, debounceMs: 0 }),
    ]);
    try {
      const heard = new Map<string, InboxChange[]>();
      const agents = Array.from({ length: 40 }, (_, i) => `hub.agent-${i}`);
      for (const agentId of agents) {
        listener.watch(agentId, (change) => heard.set(agentId, [...(heard.get(agentId) ?? []), change]));
      }
      for (const [i, agentId] of agents.entries()) {
        sender.notify(agentId, i % 2 === 0 ? 'ready' : 'dead');
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await expect.poll(() => heard.size, { timeout: 15_000 }).toBe(agents.length);
      expect(heard.get('hub.agent-0')).toContain('ready');
      expect(heard.get('hub.agent-1')).toContain('dead');
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('already executing a query'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await Promise.all([sender.close(), listener.close()]);
    }
  });
});
