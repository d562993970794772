import { DurableObject } from 'cloudflare:workers';
import type { Deps } from '../deps.js';
import { type Env, finishAfter, relayFor } from '../entry/worker.js';
import { DUE_SLACK_MS, inboxChange } from './hub.js';
import { InboxSession, type SessionState } from './session.js';

/** Storage key: the times delayed messages of this inbox become ready, earliest first. */
const DUE = 'due';

/**
 * One inbox's WebSockets on Workers: the session (session.ts) of each socket, its state kept on
 * the socket. Sockets are accepted with the hibernation API, so an idle inbox costs nothing; the
 * Worker notifies the object after a SEND (and the like), and an alarm every heartbeat interval
 * runs each session's heartbeat. The same alarm wakes the sessions when a delayed message
 * becomes ready, whichever comes first.
 */
export class InboxObject extends DurableObject<Env> {
  /** Sessions live in memory while the object is awake, and are rebuilt from their sockets after. */
  private readonly sessions = new WeakMap<WebSocket, InboxSession>();

  private get deps(): Deps {
    return relayFor(this.env).deps;
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const deps = this.deps;
    try {
      return await this.answer(deps, url);
    } finally {
      finishAfter(deps, this.ctx);
    }
  }

  private async answer(deps: Deps, url: URL): Promise<Response> {
    if (url.pathname === '/notify') {
      const at = Number(url.searchParams.get('at') ?? 0);
      if (at > deps.clock.now()) {
        await this.wakeAt(at + DUE_SLACK_MS);
        return new Response(null, { status: 204 });
      }
      const change = inboxChange(url.searchParams.get('change'));
      await this.everySession((session) => session.wake(change));
      return new Response(null, { status: 204 });
    }
    const state = await InboxSession.begin(deps, {
      agentId: url.searchParams.get('agent') ?? '',
      visibilityTimeoutSec: Number(url.searchParams.get('visibility_timeout') ?? 30),
    });
    if (!state) return new Response(null, { status: 404 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    const session = this.adopt(server, state);
    await this.alarmBy(deps.clock.now() + deps.config.heartbeatIntervalSec * 1000);
    await session.welcome();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    await this.session(ws)?.receive(data);
    finishAfter(this.deps, this.ctx);
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    this.session(ws)?.detach();
  }

  override async alarm(): Promise<void> {
    const { clock, config } = this.deps;
    // A heartbeat pumps each socket, so it also delivers the delayed messages now due.
    await this.everySession((session) => session.heartbeat());
    finishAfter(this.deps, this.ctx);
    const now = clock.now();
    const due = ((await this.ctx.storage.get<number[]>(DUE)) ?? []).filter((at) => at > now);
    await (due.length > 0 ? this.ctx.storage.put(DUE, due) : this.ctx.storage.delete(DUE));
    const next = Math.min(
      this.ctx.getWebSockets().length > 0
        ? now + config.heartbeatIntervalSec * 1000
        : Number.POSITIVE_INFINITY,
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

  private async everySession(run: (session: InboxSession) => Promise<void>): Promise<void> {
    await Promise.all(
      this.ctx.getWebSockets().map((ws) => {
        const session = this.session(ws);
        return session ? run(session) : undefined;
      }),
    );
  }

  private session(ws: WebSocket): InboxSession | undefined {
    const known = this.sessions.get(ws);
    if (known) return known;
    const state = ws.deserializeAttachment() as SessionState | null;
    return state ? this.adopt(ws, state) : undefined;
  }

  private adopt(ws: WebSocket, state: SessionState): InboxSession {
    const session = new InboxSession(
      this.deps,
      {
        send: (text) => ws.send(text),
        close: (code, reason) => ws.close(code, reason),
        save: (s) => ws.serializeAttachment(s),
      },
      state,
    );
    ws.serializeAttachment(state);
    this.sessions.set(ws, session);
    return session;
  }
}
