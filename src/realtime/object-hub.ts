import type { SocketGateway } from './gateway.js';
import { type Hub, LocalHub } from './hub.js';

/** The inbox's Durable Object: one per agent, named by the agent id. */
export const inboxObject = (namespace: DurableObjectNamespace, agentId: string) =>
  namespace.get(namespace.idFromName(agentId));

// The object's own routes; only the Worker can reach an object, so these need no credentials.
export const OBJECT_ORIGIN = 'https://inbox.internal';

/**
 * The Workers hub: a notify goes to the inbox's Durable Object, which pushes to the sockets it
 * holds. Nothing outlives a request on Workers, so the Worker hands `settled()` to waitUntil.
 * Waiters in this isolate (a long-poll) are woken in process as well.
 */
export class ObjectHub implements Hub {
  private readonly local = new LocalHub();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly namespace: DurableObjectNamespace) {}

  notify(agentId: string, at?: number): void {
    this.local.notify(agentId, at);
    const sent = inboxObject(this.namespace, agentId)
      .fetch(`${OBJECT_ORIGIN}/notify${at === undefined ? '' : `?at=${at}`}`, { method: 'POST' })
      .then((r) => r.body?.cancel())
      .catch(() => {});
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  watch(agentId: string, wake: () => void): () => void {
    return this.local.watch(agentId, wake);
  }

  /** Resolves once every notify sent so far has reached its object. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.settled();
  }
}

/** Hands an authenticated upgrade to the inbox's object, which accepts and keeps the socket. */
export class ObjectGateway implements SocketGateway {
  constructor(private readonly namespace: DurableObjectNamespace) {}

  accept: SocketGateway['accept'] = async (_c, request) => {
    const url = new URL(`${OBJECT_ORIGIN}/connect`);
    url.searchParams.set('agent', request.agentId);
    url.searchParams.set('visibility_timeout', String(request.visibilityTimeoutSec));
    return inboxObject(this.namespace, request.agentId).fetch(url, {
      headers: { upgrade: 'websocket' },
    });
  };
}
