/** What every leg of the comparison shares: how it is opened, and the settings that keep legs fair. */
import type { Agent, RelayClient } from '../relay-client.js';
import type { Queue } from '../workload.js';

export const LEG_NAMES = ['raw', 'raw-http', 'pgboss', 'relay', 'raw-batch', 'relay-batch'] as const;
export type LegName = (typeof LEG_NAMES)[number];

/** Messages per call in the batch legs: the most SPEC "Batches" allows. */
export const BATCH = 100;

/** Connections per client: the relay's default DATABASE_POOL_SIZE, and pg-boss's default too. */
export const POOL_SIZE = 10;

/**
 * How long a consumer that found nothing waits before asking again, where the queue has no
 * long-poll of its own (raw, pg-boss). Short, so an idle consumer adds little latency; each
 * empty look still costs a statement, and that CPU is in the figures.
 */
export const EMPTY_BACKOFF_MS = 2;

/** The relay a run started, with one sender and one recipient per producer/consumer pair. */
export interface RelayTarget {
  readonly client: RelayClient;
  readonly senders: readonly Agent[];
  readonly recipients: readonly Agent[];
  readonly pid: number;
}

export interface LegContext {
  /** The PostgreSQL server every leg shares; undefined on embedded PGlite. */
  readonly databaseUrl: string | undefined;
  readonly relay: RelayTarget | undefined;
  readonly concurrency: number;
  /** Rows of acked history the relay's table holds and `clean` must keep. */
  readonly history: number;
}

export interface OpenedLeg {
  /** Each leg leases its own kind of handle. */
  readonly queue: Queue<any>;
  /** The process that serves the leg over HTTP (the relay, raw-http's server), whose CPU is measured. */
  readonly server?: number | undefined;
  /** Empties the leg's store, so the measured run starts on a clean table. */
  clean(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a leg, or says why it cannot run here (the run goes on without it). */
export type OpenLeg = (context: LegContext) => Promise<OpenedLeg | string>;
