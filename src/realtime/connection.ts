import type { Deps } from '../deps.js';
import { CLOSE } from './frames.js';
import { InboxSession, type SessionRequest, type SessionSocket } from './session.js';

/**
 * A WebSocket on Node: the session (session.ts) in this process's memory, with an interval for
 * its heartbeat. Frames that arrive before the session is open wait for it.
 */
export class InboxConnection {
  private session: InboxSession | undefined;
  private opened: Promise<void> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private unwatch: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly deps: Deps,
    private readonly socket: SessionSocket,
    private readonly request: SessionRequest,
  ) {}

  open(): Promise<void> {
    this.opened ??= this.start();
    return this.opened;
  }

  async receive(data: unknown): Promise<void> {
    await this.open().catch(() => {});
    await this.session?.receive(data);
  }

  /** The socket is gone: stop the heartbeat and let the session go. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    if (this.ticker) clearInterval(this.ticker);
    this.session?.detach();
  }

  end(code: number, reason: string): void {
    try {
      this.socket.close(code, reason);
    } finally {
      this.detach();
    }
  }

  private async start(): Promise<void> {
    const state = await InboxSession.begin(this.deps, this.request);
    const session = state && new InboxSession(this.deps, this.socket, state);
    if (this.closed) return session?.detach();
    if (!session) return this.end(CLOSE.sessionEnded, 'agent not found');
    this.session = session;
    this.unwatch = this.deps.hub.watch(this.request.agentId, (change) => void session.wake(change));
    this.ticker = setInterval(() => {
      void session.heartbeat().then(() => {
        if (session.isClosed) this.detach();
      });
    }, this.deps.config.heartbeatIntervalSec * 1000);
    await session.welcome();
  }
}
