import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import {
  ADMIN_KEY,
  type RelayProcess,
  request,
  spawnRelay,
  stopRelay,
} from '../../../test/process/relay-process.js';
import { ADMPClient, type ClientOptions, type Message } from '../../src/index.js';

export { ADMIN_KEY, request };

export const JWT_SECRET = 'sdk-js-test-jwt-secret-0123456789abcdef';

declare module 'vitest' {
  export interface ProvidedContext {
    sdkRelayUrl: string;
  }
}

/** Registers agents on a relay and builds clients for them. */
export class Agents {
  readonly #url: string | undefined;

  constructor(url?: string) {
    this.#url = url;
  }

  get url(): string {
    if (!this.#url) throw new Error('no relay url');
    return this.#url;
  }

  /** Registers an agent; returns its id, API key and HMAC secret. */
  async register(prefix: string): Promise<{ agentId: string; apiKey: string; hmacSecret: string }> {
    const agentId = `${prefix}.${crypto.randomUUID().slice(0, 8)}`;
    const r = await request(this.url, 'POST', '/v1/agents', ADMIN_KEY, { agent_id: agentId });
    if (r.status !== 201) throw new Error(`register ${agentId}: ${r.status} ${JSON.stringify(r.body)}`);
    return { agentId, apiKey: r.body.api_key, hmacSecret: r.body.hmac_secret };
  }

  /** A client for a freshly registered agent, authenticated by API key unless told otherwise. */
  async client(prefix: string, options: Partial<ClientOptions> = {}): Promise<ADMPClient> {
    const agent = await this.register(prefix);
    return new ADMPClient({ relayUrl: this.url, agentId: agent.agentId, apiKey: agent.apiKey, ...options });
  }
}

/** The relay the sdk-js project's global setup started for every test file. */
export function sharedRelay(): Agents {
  return new Agents(inject('sdkRelayUrl'));
}

/** A value that must be there, for tests: fails loudly instead of asserting it away. */
export function must<T>(value: T | null | undefined, what = 'a message'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

export type { Message };

/**
 * A real relay process on embedded PGlite, with its data in a directory of its own, so that it
 * can be stopped and started again on the same port with the same messages.
 */
export class LiveRelay extends Agents {
  relay: RelayProcess | undefined;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'admp-sdk-js-'));
  port: number | undefined;

  constructor(readonly env: Record<string, string> = {}) {
    super();
  }

  override get url(): string {
    if (!this.port) throw new Error('relay not started');
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the relay; after a stop, on the same port and data as before. */
  async start(): Promise<void> {
    const again = this.port !== undefined;
    this.relay = await spawnRelay({
      env: {
        ADMP_DATA_DIR: this.dataDir,
        JWT_SECRET,
        ...this.env,
        ...(again ? { PORT: String(this.port) } : {}),
      },
      // spawnRelay waits on the port it picked; a restart keeps ours, so wait here instead.
      waitForHealth: !again,
      // Generous: a relay on a busy machine starts late, not never.
      healthTimeoutMs: 180_000,
    });
    if (!again) this.port = this.relay.port;
    else await this.#healthy(180_000);
  }

  async #healthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`relay on ${this.url} not healthy within ${timeoutMs} ms: ${this.relay?.stderr()}`);
  }

  /** Stops the process (SIGTERM, as an orchestrator would) and waits for it to exit. */
  async stop(): Promise<void> {
    this.relay?.kill('SIGTERM');
    await this.relay?.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await stopRelay(this.relay);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
