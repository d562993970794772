/**
 * An agent's session on the relay (POST /v1/agents/{id}/sessions): the agent is online, and so
 * reached by broadcasts, while it keeps heartbeating; deleting the session takes it offline at once.
 * The SDKs leave sessions to the caller, so this is plain fetch with the agent's own API key.
 */
import type { Agent } from '../shared/relay.js';

export interface SessionInfo {
  session_id: string;
  heartbeat_interval_sec: number;
  expires_at: string;
}

export class Session {
  private timer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly relayUrl: string,
    private readonly agent: Agent,
    public info: SessionInfo,
  ) {}

  /** Registers a session and heartbeats it at half the relay's interval, so it never lapses. */
  static async open(relayUrl: string, agent: Agent): Promise<Session> {
    const session = new Session(relayUrl, agent, {
      session_id: '',
      heartbeat_interval_sec: 0,
      expires_at: '',
    });
    const response = await session.call('POST', '');
    if (response.status !== 201) throw new Error(`registering a session: HTTP ${response.status}`);
    session.info = (await response.json()) as SessionInfo;
    session.timer = setInterval(
      () => session.heartbeat().catch(() => {}),
      (session.info.heartbeat_interval_sec * 1000) / 2,
    );
    return session;
  }

  /** One heartbeat; answers the HTTP status (404 once the session has expired or been deleted). */
  async heartbeat(): Promise<number> {
    const response = await this.call('POST', `/${this.info.session_id}/heartbeat`);
    if (response.ok) this.info = (await response.json()) as SessionInfo;
    return response.status;
  }

  /** Deregisters: the agent goes offline now rather than two missed heartbeats from now. */
  async close(): Promise<number> {
    clearInterval(this.timer);
    const response = await this.call('DELETE', `/${this.info.session_id}`);
    return response.status;
  }

  private call(method: string, path: string): Promise<Response> {
    return fetch(`${this.relayUrl}/v1/agents/${this.agent.agentId}/sessions${path}`, {
      method,
      headers: { authorization: `Bearer ${this.agent.apiKey}` },
    });
  }
}
