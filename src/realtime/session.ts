import type { Deps } from '../deps.js';
import { RelayError } from '../errors.js';
import { ack } from '../inbox/ack.js';
import { lease, stillHeld } from '../inbox/lease.js';
import { nack } from '../inbox/nack.js';
import { errorText } from '../observe/error-text.js';
import { CLOSE, type ClientFrame, frame, parseClientFrame, type ServerFrame } from './frames.js';
import type { InboxChange } from './hub.js';
import { closeSession, heartbeatSession, openSession } from './sessions.js';

/**
 * What a session remembers between frames. Plain JSON and small, so that a Durable Object can keep
 * it on a hibernated socket (an attachment holds at most 2 KiB).
 */
export interface SessionState {
  agentId: string;
  visibilityTimeoutSec: number;
  sessionId: string;
  lastPong: number;
  lastRefresh: number;
  /** message id → [lease id, lease end in ms] */
  inFlight: Record<string, [string, number]>;
}

/** What a session needs of its runtime's WebSocket. */
export interface SessionSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Keeps the state where the runtime finds it again; a Durable Object stores it on the socket. */
  save?(state: SessionState): void;
}

export interface SessionRequest {
  agentId: string;
  visibilityTimeoutSec: number;
}

/**
 * One agent's WebSocket, on any runtime: pushes the inbox's messages in send order, each leased
 * exactly as PULL leases it, keeping at most `wsMaxInFlight` unsettled; settles ACK and NACK frames
 * through the inbox operations and answers a failed one with an error frame; on each heartbeat
 * pings, and closes a socket that has not answered for two, leaving its leases to run out.
 * The runtime brings the socket and calls `heartbeat()` every heartbeat interval.
 */
export class InboxSession {
  private pumping = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly deps: Deps,
    private readonly socket: SessionSocket,
    readonly state: SessionState,
  ) {}

  /** Opens the agent's session row; undefined when the agent does not exist. */
  static async begin(deps: Deps, request: SessionRequest): Promise<SessionState | undefined> {
    const session = await openSession(deps.db, request.agentId, deps.config.heartbeatIntervalSec);
    if (!session) return undefined;
    const now = deps.clock.now();
    return { ...request, sessionId: session.session_id, lastPong: now, lastRefresh: now, inFlight: {} };
  }

  private get heartbeatMs() {
    return this.deps.config.heartbeatIntervalSec * 1000;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async welcome(): Promise<void> {
    const { config } = this.deps;
    this.send({
      type: 'welcome',
      session_id: this.state.sessionId,
      heartbeat_interval_sec: config.heartbeatIntervalSec,
      max_in_flight: config.wsMaxInFlight,
    });
    await this.pump();
  }

  async receive(data: unknown): Promise<void> {
    if (this.closed) return;
    const f = parseClientFrame(data);
    if (f.type === 'error') return this.send(f);
    this.state.lastPong = this.deps.clock.now();
    if (f.type === 'pong') {
      await this.refreshSession();
      return this.save();
    }
    const freed = await this.settle(f);
    this.save();
    if (freed) await this.pump();
  }

  /** Every heartbeat interval: closes a silent socket, else pings it and looks for work. */
  async heartbeat(): Promise<void> {
    if (this.closed) return;
    if (this.deps.clock.now() - this.state.lastPong > 2 * this.heartbeatMs) {
      return this.end(CLOSE.heartbeatTimeout, 'no pong for two heartbeat intervals');
    }
    this.send({ type: 'ping' });
    // Leases that ran out free their slots.
    await this.pump();
  }

  /** The inbox changed: a ready message may be for this socket; a settled one frees a slot only when all are taken. */
  async wake(change: InboxChange): Promise<void> {
    const full = Object.keys(this.state.inFlight).length >= this.deps.config.wsMaxInFlight;
    if (change === 'ready' || full) await this.pump();
  }

  /** Leases and pushes until the in-flight limit or an empty inbox; wakes during a pass run another. */
  async pump(): Promise<void> {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    const { config } = this.deps;
    const inFlight = this.state.inFlight;
    try {
      do {
        this.again = false;
        await this.forgetSettled();
        while (!this.closed && Object.keys(inFlight).length < config.wsMaxInFlight) {
          const leased = await lease(this.deps, {
            agentId: this.state.agentId,
            visibilityTimeoutSec: this.state.visibilityTimeoutSec,
            max: config.wsMaxInFlight - Object.keys(inFlight).length,
            via: 'push',
          });
          // Closed while leasing: the leases run out and the messages go to another consumer.
          if (leased.length === 0 || this.closed) break;
          for (const delivery of leased) {
            inFlight[delivery.id] = [delivery.lease_id, Date.parse(delivery.lease_until)];
            this.send({ type: 'message', message: delivery });
          }
        }
      } while (this.again && !this.closed);
    } catch (error) {
      this.deps.logger.error(
        { err: errorText(error), agent_id: this.state.agentId },
        'websocket push failed',
      );
    } finally {
      this.pumping = false;
      this.save();
    }
  }

  /** The socket is gone: stop pushing and drop the session; leases run out on their own. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    const { db, hub, clock } = this.deps;
    const { agentId, sessionId } = this.state;
    void closeSession(db, agentId, sessionId).catch(() => {});
    // Whoever else waits on this inbox should look again once the abandoned leases run out.
    const latest = Math.max(0, ...Object.values(this.state.inFlight).map(([, until]) => until));
    if (latest > 0) setTimeout(() => hub.notify(agentId, 'ready'), Math.max(0, latest - clock.now()) + 50);
  }

  end(code: number, reason: string): void {
    try {
      this.socket.close(code, reason);
    } catch {
      // Already closed.
    } finally {
      this.detach();
    }
  }

  /** Runs an ACK or NACK frame; true when it freed a slot. A failure answers with an error frame. */
  private async settle(f: Exclude<ClientFrame, { type: 'pong' }>): Promise<boolean> {
    const key = f.message_id.toLowerCase();
    const inFlight = this.state.inFlight;
    const held = inFlight[key];
    const ref = { agentId: this.state.agentId, messageId: key, leaseId: held?.[0] };
    try {
      if (f.type === 'ack') {
        delete inFlight[key];
        await ack(this.deps, { ...ref, via: 'push' });
      } else if (f.extend !== undefined) {
        const result = await nack(this.deps, { ...ref, extendSec: f.extend });
        if (held && result.lease_until) held[1] = Date.parse(result.lease_until);
        return false;
      } else {
        delete inFlight[key];
        await nack(this.deps, ref);
      }
      return true;
    } catch (error) {
      if (error instanceof RelayError && error.code === 'not_found') {
        this.send({
          type: 'error',
          code: 'not_found',
          message: `no current lease on message ${f.message_id} for ${this.state.agentId}`,
          message_id: f.message_id,
        });
        return true;
      }
      // The lease still holds (the client may send the frame again), and so does its slot.
      if (held) inFlight[key] = held;
      this.deps.logger.error(
        { err: errorText(error), agent_id: this.state.agentId },
        'websocket frame failed',
      );
      this.send({
        type: 'error',
        code: 'internal_error',
        message: `the relay failed to ${f.type} message ${f.message_id}; retry the frame`,
        message_id: f.message_id,
      });
      return false;
    }
  }

  /**
   * Frees the slots of leases that ran out, and, when every slot is taken, of messages settled
   * over HTTP rather than over this socket: one query, only when the limit would stop a push.
   */
  private async forgetSettled(): Promise<void> {
    const inFlight = this.state.inFlight;
    const now = this.deps.clock.now();
    for (const [id, [, until]] of Object.entries(inFlight)) if (until <= now) delete inFlight[id];
    if (Object.keys(inFlight).length < this.deps.config.wsMaxInFlight) return;
    const held = new Map(Object.entries(inFlight).map(([id, [leaseId]]) => [id, leaseId]));
    const still = await stillHeld(this.deps, held);
    for (const id of held.keys()) if (!still.has(id)) delete inFlight[id];
  }

  /** Keeps the socket's session alive, at most once per half heartbeat interval. */
  private async refreshSession(): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.state.lastRefresh < this.heartbeatMs / 2) return;
    this.state.lastRefresh = now;
    const { db, config } = this.deps;
    const { agentId, sessionId } = this.state;
    const alive = await heartbeatSession(db, agentId, sessionId, config.heartbeatIntervalSec).catch(
      () => true,
    );
    if (!alive) this.end(CLOSE.sessionEnded, 'the session was removed');
  }

  private save(): void {
    if (!this.closed) this.socket.save?.(this.state);
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
