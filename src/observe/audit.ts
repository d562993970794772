import { type Run, statement } from '../db/statements.js';
import { errorText } from './error-text.js';
import type { Logger } from './logger.js';

export interface AuditEntry {
  event: string;
  agentId?: string | null | undefined;
  messageId?: string | null | undefined;
  requestId?: string | null | undefined;
  /** Never a secret, key or token: audit rows are read by people. */
  detail?: Record<string, unknown>;
}

/** Where audit events go; recording never waits for the database. */
export interface AuditSink {
  record(entry: AuditEntry): void;
  /** Writes everything recorded so far; entries call it on a timer and at shutdown. */
  flush(): Promise<void>;
}

const BATCH = 500;

/** One audit row as the insert takes it: at, event, agent, message, request, detail (JSON text). */
type Row = [string, string, string | null, string | null, string | null, string | null];
const COLUMNS = ['at', 'event', 'agent_id', 'message_id', 'request_id', 'detail'] as const;

// One prepared statement whatever the batch size: the rows travel as six arrays. The buffer is
// already lost in a crash, so the insert need not wait for the WAL flush either.
const INSERT = statement(
  'admp_audit',
  `insert into audit_log (${COLUMNS.join(', ')})
   select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
  { durable: false },
);
// A database outage must not grow memory without bound; past this, the oldest rows are dropped.
const MAX_BUFFERED = 50_000;

/**
 * audit_log rows (FR-27, FR-38), buffered and written in batches so that no request pays a
 * round trip of its own for its audit row. A batch that fails to insert goes back in the buffer.
 */
export class BufferedAuditLog implements AuditSink {
  private buffer: Row[] = [];
  private writing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    private readonly run: Run,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  record(entry: AuditEntry): void {
    this.buffer.push([
      new Date(this.now()).toISOString(),
      entry.event,
      entry.agentId ?? null,
      entry.messageId ?? null,
      entry.requestId ?? null,
      entry.detail ? JSON.stringify(entry.detail) : null,
    ]);
    if (this.buffer.length > MAX_BUFFERED) {
      this.dropped += this.buffer.length - MAX_BUFFERED;
      this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
    }
    if (this.buffer.length >= BATCH) void this.flush();
  }

  flush(): Promise<void> {
    // One writer at a time keeps rows in order and never inserts a batch twice.
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, BATCH);
      try {
        await this.run(
          INSERT,
          COLUMNS.map((_, i) => batch.map((row) => row[i])),
        );
      } catch (error) {
        this.buffer.unshift(...batch);
        this.logger.error({ err: errorText(error), pending: this.buffer.length }, 'audit log write failed');
        return;
      }
    }
    if (this.dropped > 0) {
      this.logger.warn({ dropped: this.dropped }, 'audit rows dropped while the database was unreachable');
      this.dropped = 0;
    }
  }
}
