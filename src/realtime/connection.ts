import { sql } from 'drizzle-orm';
import { rows } from '../db/database.js';
import type { Deps } from '../deps.js';
import { RelayError } from '../errors.js';
import { ack } from '../inbox/ack.js';
import { lease } from '../inbox/lease.js';
import { nack } from '../inbox/nack.js';
import { errorText } from '../observe/error-text.js';
import { CLOSE, type ClientFrame, frame, parseClientFrame, type ServerFrame } from './frames.js';
import { closeSession, heartbeatSession, openSession } from './sessions.js';

/** What a connection needs of a WebSocket, on any runtime. */
export interface Socket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface ConnectionOptions {
  agentId: string;
  visibilityTimeoutSec: number;
}

interface InFlight {
  leaseId: string;
  leaseUntil: number;
}

/**
 * One agent's WebSocket: pushes the inbox's messages in send order, each leased exactly as PULL
 * leases it, keeping at most `wsMaxInFlight` unsettled; takes ACK and NACK frames; pings every
 * heartbeat and closes a socket that has not answered for two, leaving its leases to run out.
 */
export class InboxConnection {
  private readonly inFlight = new Map<string, InFlight>();
  private sessionId: string | undefined;
  private unwatch: (() => void) | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private lastPong: number;
  private lastRefresh: number;
  private pumping = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly deps: Deps,
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.lastPong = this.lastRefresh = deps.clock.now();
  }

  private get heartbeatMs() {
    return this.deps.config.heartbeatIntervalSec * 1000;
  }

  async open(): Promise<void> {
    const { db, config } = this.deps;
    const session = await openSession(db, this.options.agentId, config.heartbeatIntervalSec);
    if (this.closed) {
      if (session) void closeSession(db, this.options.agentId, session.session_id).catch(() => {});
      return;
    }
    if (!session) return this.end(CLOSE.sessionEnded, 'agent not found');
    this.sessionId = session.session_id;
    this.send({
      type: 'welcome',
      session_id: session.session_id,
      heartbeat_interval_sec: config.heartbeatIntervalSec,
      max_in_flight: config.wsMaxInFlight,
    });
    this.unwatch = this.deps.hub.watch(this.options.agentId, () => void this.pump());
    this.ticker = setInterval(() => this.tick(), this.heartbeatMs);
    await this.pump();
  }

  async receive(data: unknown): Promise<void> {
    if (this.closed) return;
    const f = parseClientFrame(data);
    if (f.type === 'error') return this.send(f);
    this.lastPong = this.deps.clock.now();
    if (f.type === 'pong') return this.refreshSession();
    try {
      await this.settle(f);
    } catch (error) {
      this.deps.logger.error(
        { err: errorText(error), agent_id: this.options.agentId },
        'websocket frame failed',
      );
      this.send({ type: 'error', code: 'internal_error', message: 'the relay failed to handle this frame' });
    }
  }

  /** The socket is gone: stop pushing and drop the session; leases run out on their own. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    if (this.ticker) clearInterval(this.ticker);
    const { db, hub } = this.deps;
    if (this.sessionId) void closeSession(db, this.options.agentId, this.sessionId).catch(() => {});
    // Whoever else waits on this inbox should look again once the abandoned leases run out.
    const latest = Math.max(0, ...[...this.inFlight.values()].map((f) => f.leaseUntil));
    if (latest > 0) {
      const wait = Math.max(0, latest - this.deps.clock.now()) + 50;
      setTimeout(() => hub.notify(this.options.agentId), wait);
    }
  }

  end(code: number, reason: string): void {
    try {
      this.socket.close(code, reason);
    } finally {
      this.detach();
    }
  }

  private async settle(f: Exclude<ClientFrame, { type: 'pong' }>): Promise<void> {
    const key = f.message_id.toLowerCase();
    const ref = {
      agentId: this.options.agentId,
      messageId: key,
      leaseId: this.inFlight.get(key)?.leaseId,
    };
    try {
      if (f.type === 'ack') {
        this.inFlight.delete(key);
        await ack(this.deps, { ...ref, via: 'push' });
      } else if (f.extend !== undefined) {
        const result = await nack(this.deps, { ...ref, extendSec: f.extend });
        const held = this.inFlight.get(key);
        if (held) held.leaseUntil = Date.parse(result.lease_until as string);
        return;
      } else {
        this.inFlight.delete(key);
        await nack(this.deps, ref);
      }
    } catch (error) {
      if (!(error instanceof RelayError && error.code === 'not_found')) throw error;
      return this.notLeased(f.message_id);
    }
    await this.pump();
  }

  private notLeased(messageId: string): void {
    this.send({
      type: 'error',
      code: 'not_found',
      message: `no current lease on message ${messageId} for ${this.options.agentId}`,
      message_id: messageId,
    });
  }

  /** Leases and pushes until the in-flight limit or an empty inbox; wakes during a pass run another. */
  private async pump(): Promise<void> {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.forgetSettled();
        while (!this.closed && this.inFlight.size < this.deps.config.wsMaxInFlight) {
          const leased = await lease(this.deps, {
            agentId: this.options.agentId,
            visibilityTimeoutSec: this.options.visibilityTimeoutSec,
            max: this.deps.config.wsMaxInFlight - this.inFlight.size,
            via: 'push',
          });
          // Closed while leasing: the leases run out and the messages go to another consumer.
          if (leased.length === 0 || this.closed) break;
          for (const delivery of leased) {
            this.inFlight.set(delivery.id, {
              leaseId: delivery.lease_id,
              leaseUntil: Date.parse(delivery.lease_until),
            });
            this.send({ type: 'message', message: delivery });
          }
        }
      } while (this.again && !this.closed);
    } catch (error) {
      this.deps.logger.error(
        { err: errorText(error), agent_id: this.options.agentId },
        'websocket push failed',
      );
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Frees the slots of leases that ran out, and, when every slot is taken, of messages settled
   * over HTTP rather than over this socket: one query, only when the limit would stop a push.
   */
  private async forgetSettled(): Promise<void> {
    const now = this.deps.clock.now();
    for (const [id, held] of this.inFlight) if (held.leaseUntil <= now) this.inFlight.delete(id);
    if (this.inFlight.size < this.deps.config.wsMaxInFlight) return;
    const leases = [...this.inFlight.values()].map((f) => f.leaseId);
    const current = await rows<{ id: string }>(
      this.deps.db,
      sql`select id from message where lease_id = any(${`{${leases.join(',')}}`}::uuid[]) and status = 'leased'`,
    );
    const still = new Set(current.map((r) => r.id));
    for (const id of this.inFlight.keys()) if (!still.has(id)) this.inFlight.delete(id);
  }

  private tick(): void {
    if (this.closed) return;
    if (this.deps.clock.now() - this.lastPong > 2 * this.heartbeatMs) {
      this.end(CLOSE.heartbeatTimeout, 'no pong for two heartbeat intervals');
      return;
    }
    this.send({ type: 'ping' });
    // Leases that ran out free their slots; look for more work.
    void this.pump();
  }

  /** Keeps the socket's session alive, at most once per heartbeat interval. */
  private refreshSession(): void {
    const now = this.deps.clock.now();
    if (!this.sessionId || now - this.lastRefresh < this.heartbeatMs / 2) return;
    this.lastRefresh = now;
    const { db, config } = this.deps;
    void heartbeatSession(db, this.options.agentId, this.sessionId, config.heartbeatIntervalSec)
      .then((s) => {
        if (!s) this.end(CLOSE.sessionEnded, 'the session was removed');
      })
      .catch(() => {});
  }

  private send(f: ServerFrame): void {
    if (this.closed) return;
    try {
      this.socket.send(frame(f));
    } catch {
      this.detach();
    }
  }
}
