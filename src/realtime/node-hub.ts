import pg from 'pg';
import { errorText } from '../observe/error-text.js';
import type { Logger } from '../observe/logger.js';
import { type Hub, type InboxChange, inboxChange, LocalHub } from './hub.js';

const CHANNEL = 'admp_inbox';
// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; a line (agent id, change and the time a
// delayed message becomes ready) is at most 148.
const MAX_PAYLOAD = 7000;
const RECONNECT_MS = 1000;

export interface PgHubOptions {
  url: string;
  logger: Logger;
  /** At most one NOTIFY per this many milliseconds; the first after a quiet spell goes at once. */
  debounceMs: number;
}

/**
 * A hub shared by every relay process on one PostgreSQL server. Waiters in this process are woken
 * at once; other processes hear of the inboxes touched through one batched NOTIFY per debounce
 * window, never one per message, sent from a connection of its own so that a SEND never waits on it.
 */
export class PgHub implements Hub {
  private readonly local = new LocalHub();
  readonly hearsEveryProcess = true;
  private readonly origin = crypto.randomUUID();
  private readonly pending = new Set<string>();
  private client: pg.Client | undefined;
  /** The connection's last query: the next waits for it (see `query`). */
  private lastQuery: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;
  private closed = false;

  private constructor(private readonly options: PgHubOptions) {}

  static async start(options: PgHubOptions): Promise<PgHub> {
    const hub = new PgHub(options);
    await hub.connect();
    return hub;
  }

  notify(agentId: string, change: InboxChange, at?: number): void {
    this.local.notify(agentId, change, at);
    // Every process sets its own timer for a delayed message, so nothing is sent at its time.
    this.pending.add(at === undefined ? `${agentId} ${change}` : `${agentId} ${change} ${at}`);
    if (this.timer || this.closed) return;
    const wait = Math.max(0, this.lastFlush + this.options.debounceMs - Date.now());
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  watch(agentId: string, wake: (change: InboxChange) => void): () => void {
    return this.local.watch(agentId, wake);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
    await this.local.close();
    await this.client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url });
    client.on('notification', (n) => this.hear(n.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    this.lastQuery = Promise.resolve();
    this.client = client;
  }

  /**
   * One query at a time on the connection: flushes may overlap (a slow NOTIFY, a flush on close),
   * and node-postgres deprecates queueing a query behind another on one client.
   */
  private query(client: pg.Client, text: string, values: unknown[]): Promise<unknown> {
    const next = this.lastQuery.then(() => client.query(text, values));
    this.lastQuery = next.catch(() => {});
    return next;
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.options.logger.warn({ err: errorText(error) }, 'realtime LISTEN connection lost; reconnecting');
    const retry = () => {
      if (this.closed) return;
      this.connect().then(
        // Notifies sent while we were away were missed: every waiter looks again.
        () => this.local.wakeAll(),
        () => setTimeout(retry, RECONNECT_MS),
      );
    };
    setTimeout(retry, RECONNECT_MS);
  }

  private hear(payload: string): void {
    const [origin, ...lines] = payload.split('\n');
    if (origin === this.origin) return; // already woken locally when notified
    for (const line of lines) {
      // Agent ids hold no spaces.
      const [agentId, change, at] = line.split(' ');
      if (agentId) this.local.notify(agentId, inboxChange(change), at === undefined ? undefined : Number(at));
    }
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    this.lastFlush = Date.now();
    if (this.pending.size === 0) return;
    const agents = [...this.pending];
    this.pending.clear();
    const client = this.client;
    if (!client) return; // reconnecting; the others will look again when we are back
    try {
      for (const payload of batches(this.origin, agents)) {
        await this.query(client, 'select pg_notify($1, $2)', [CHANNEL, payload]);
      }
    } catch (error) {
      this.options.logger.warn({ err: errorText(error) }, 'realtime NOTIFY failed');
    }
  }
}

function* batches(origin: string, agents: string[]): Generator<string> {
  let payload = origin;
  for (const agentId of agents) {
    if (payload.length + agentId.length + 1 > MAX_PAYLOAD) {
      yield payload;
      payload = origin;
    }
    payload += `\n${agentId}`;
  }
  yield payload;
}
