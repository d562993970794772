/**
 * `pgboss`: pg-boss 10 on the same PostgreSQL, one message at a time as a user would call it:
 * `send`, `fetch` of one job, `complete` of that job. One queue per consumer, as the relay has
 * one inbox per recipient (pg-boss 10 gives each queue its own partition of the job table).
 *
 * Settings, chosen so the leg measures the queue and nothing else: `supervise: false` (no
 * maintenance: no archiving, expiry or deletion sweeps), `schedule: false` (no cron clock),
 * no state monitoring, `migrate: true` once at the start, and a pool of POOL_SIZE connections.
 * Jobs keep pg-boss's defaults otherwise (standard policy, retry limit 2, 15 minute expiry).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { payload, type Queue } from '../workload.js';
import { EMPTY_BACKOFF_MS, type LegContext, type OpenLeg, POOL_SIZE } from './leg.js';

type Leased = { readonly n: number; readonly id: string };

const queueName = (i: number) => `bench-${i}`;

function queue(boss: PgBoss): Queue<Leased> {
  return {
    async send(p, ns) {
      const id = await boss.send(queueName(p), payload(ns[0] as number));
      if (!id) throw new Error(`pg-boss send to ${queueName(p)} returned no job id`);
    },
    async lease(c) {
      const jobs = await boss.fetch<{ n: number }>(queueName(c), { batchSize: 1 });
      if (jobs.length === 0) await sleep(EMPTY_BACKOFF_MS);
      return jobs.map((job) => ({ n: job.data.n, id: job.id }));
    },
    async ack(c, [leased]) {
      // Typed as void, but pg-boss 10 answers how many jobs the call completed.
      const result = (await boss.complete(queueName(c), leased?.id as string)) as unknown as {
        affected: number;
      };
      if (result.affected !== 1) throw new Error(`pg-boss complete of job ${leased?.id} affected no job`);
    },
  };
}

export const pgbossLeg: OpenLeg = async (context: LegContext) => {
  if (!context.databaseUrl) return 'needs PostgreSQL (--db postgres)';
  const boss = new PgBoss({
    connectionString: context.databaseUrl,
    max: POOL_SIZE,
    supervise: false,
    schedule: false,
    migrate: true,
  });
  boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  for (let i = 0; i < context.concurrency; i++) await boss.createQueue(queueName(i));
  return {
    queue: queue(boss),
    clean: async () => {
      await boss.getDb().executeSql('truncate pgboss.job, pgboss.archive', []);
    },
    close: () => boss.stop({ graceful: false, wait: true }),
  };
};
