import { DurableObject } from 'cloudflare:workers';
import type { Deps } from '../deps.js';
import { type Env, relayFor } from '../entry/worker.js';
import { RelayError } from '../errors.js';
import { ack } from '../inbox/ack.js';
import { lease } from '../inbox/lease.js';
import { nack } from '../inbox/nack.js';
import { CLOSE, frame, parseClientFrame, type ServerFrame } from './frames.js';
import { DUE_SLACK_MS } from './hub.js';
import { closeSession, heartbeatSession, openSession } from './sessions.js';

/** Storage key: the times delayed messages of this inbox become ready, earliest first. */
const DUE = 'due';

/** What a hibernated socket remembers; kept small, since an attachment holds at most 2 KiB. */
interface SocketState {
  agentId: string;
  visibilityTimeoutSec: number;
  sessionId: string;
  lastPong: number;
  lastRefresh: number;
  /** message id → [lease id, lease end in ms] */
  inFlight: Record<string, [string, number]>;
}

/**
 * One inbox's WebSockets on Workers, speaking the frames of docs/realtime.md. Sockets are accepted
 * with the hibernation API, so an idle inbox costs nothing; the Worker notifies the object after
 * a SEND (and the like), and an alarm every heartbeat interval pings, closes silent sockets and
 * frees slots whose leases ran out.
 */
export class InboxObject extends DurableObject<Env> {
  private get deps(): Deps {
    return relayFor(this.env).deps;
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/notify') {
      const at = Number(url.searchParams.get('at') ?? 0);
      if (at > this.deps.clock.now()) {
        await this.wakeAt(at + DUE_SLACK_MS);
        return new Response(null, { status: 204 });
      }
      await Promise.all(this.ctx.getWebSockets().map((ws) => this.pump(ws)));
      return new Response(null, { status: 204 });
    }
    const agentId = url.searchParams.get('agent') ?? '';
    const visibilityTimeoutSec = Number(url.searchParams.get('visibility_timeout') ?? 30);
    const { db, config, clock } = this.deps;
    const session = await openSession(db, agentId, config.heartbeatIntervalSec);
    if (!session) return new Response(null, { status: 404 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    const now = clock.now();
    const state: SocketState = {
      agentId,
      visibilityTimeoutSec,
      sessionId: session.session_id,
      lastPong: now,
      lastRefresh: now,
      inFlight: {},
    };
    server.serializeAttachment(state);
    send(server, {
      type: 'welcome',
      session_id: session.session_id,
      heartbeat_interval_sec: config.heartbeatIntervalSec,
      max_in_flight: config.wsMaxInFlight,
    });
    await this.alarmBy(now + config.heartbeatIntervalSec * 1000);
    await this.pump(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const f = parseClientFrame(data);
    if (f.type === 'error') return send(ws, f);
    const deps = this.deps;
    const state = ws.deserializeAttachment() as SocketState;
    state.lastPong = deps.clock.now();
    if (f.type === 'pong') {
      if (state.lastPong - state.lastRefresh >= (deps.config.heartbeatIntervalSec * 1000) / 2) {
        state.lastRefresh = state.lastPong;
        await heartbeatSession(deps.db, state.agentId, state.sessionId, deps.config.heartbeatIntervalSec);
      }
      ws.serializeAttachment(state);
      return;
    }
    const key = f.message_id.toLowerCase();
    const ref = { agentId: state.agentId, messageId: key, leaseId: state.inFlight[key]?.[0] };
    try {
      if (f.type === 'ack') {
        delete state.inFlight[key];
        await ack(deps, { ...ref, via: 'push' });
      } else if (f.extend !== undefined) {
        const result = await nack(deps, { ...ref, extendSec: f.extend });
        const held = state.inFlight[key];
        if (held) held[1] = Date.parse(result.lease_until as string);
      } else {
        delete state.inFlight[key];
        await nack(deps, ref);
      }
    } catch (error) {
      if (!(error instanceof RelayError && error.code === 'not_found')) throw error;
      send(ws, {
        type: 'error',
        code: 'not_found',
        message: `no current lease on message ${f.message_id} for ${state.agentId}`,
        message_id: f.message_id,
      });
    }
    ws.serializeAttachment(state);
    await Promise.all(this.ctx.getWebSockets().map((socket) => this.pump(socket)));
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    const state = ws.deserializeAttachment() as SocketState | null;
    if (state) await closeSession(this.deps.db, state.agentId, state.sessionId).catch(() => {});
  }

  override async alarm(): Promise<void> {
    const { clock, config } = this.deps;
    const heartbeatMs = config.heartbeatIntervalSec * 1000;
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) {
      const state = ws.deserializeAttachment() as SocketState;
      if (clock.now() - state.lastPong > 2 * heartbeatMs) {
        ws.close(CLOSE.heartbeatTimeout, 'no pong for two heartbeat intervals');
        await this.webSocketClose(ws);
        continue;
      }
      send(ws, { type: 'ping' });
      await this.pump(ws);
    }
    // The alarm also serves delayed messages: the next one due, if it comes before the next ping.
    const now = clock.now();
    const due = ((await this.ctx.storage.get<number[]>(DUE)) ?? []).filter((at) => at > now);
    await (due.length > 0 ? this.ctx.storage.put(DUE, due) : this.ctx.storage.delete(DUE));
    const next = Math.min(
      sockets.length > 0 ? now + heartbeatMs : Number.POSITIVE_INFINITY,
      due[0] ?? Number.POSITIVE_INFINITY,
    );
    if (next !== Number.POSITIVE_INFINITY) await this.ctx.storage.setAlarm(next);
  }

  /** A delayed message becomes ready at `at`: the alarm fires then (or earlier, for a ping). */
  private async wakeAt(at: number): Promise<void> {
    const due = (await this.ctx.storage.get<number[]>(DUE)) ?? [];
    if (!due.includes(at)) {
      due.push(at);
      due.sort((a, b) => a - b);
      await this.ctx.storage.put(DUE, due);
    }
    await this.alarmBy(at);
  }

  private async alarmBy(at: number): Promise<void> {
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || at < alarm) await this.ctx.storage.setAlarm(at);
  }

  /** Leases and pushes to one socket until its in-flight limit or an empty inbox. */
  private async pump(ws: WebSocket): Promise<void> {
    const deps = this.deps;
    const state = ws.deserializeAttachment() as SocketState | null;
    if (!state) return;
    const now = deps.clock.now();
    for (const [id, [, until]] of Object.entries(state.inFlight)) if (until <= now) delete state.inFlight[id];
    const free = deps.config.wsMaxInFlight - Object.keys(state.inFlight).length;
    if (free > 0) {
      const leased = await lease(deps, {
        agentId: state.agentId,
        visibilityTimeoutSec: state.visibilityTimeoutSec,
        max: free,
        via: 'push',
      });
      for (const delivery of leased) {
        state.inFlight[delivery.id] = [delivery.lease_id, Date.parse(delivery.lease_until)];
        send(ws, { type: 'message', message: delivery });
      }
    }
    ws.serializeAttachment(state);
  }
}

function send(ws: WebSocket, f: ServerFrame): void {
  try {
    ws.send(frame(f));
  } catch {
    // Already closed; its leases run out on their own.
  }
}
