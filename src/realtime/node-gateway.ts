import { upgradeWebSocket } from '@hono/node-server';
import type { Deps } from '../deps.js';
import { errorText } from '../observe/error-text.js';
import { InboxConnection } from './connection.js';
import { CLOSE } from './frames.js';
import type { SocketGateway } from './gateway.js';

/**
 * WebSockets on Node, upgraded by @hono/node-server's own helper (the server is given a `ws`
 * WebSocketServer in src/entry/node.ts). Keeps every open connection so shutdown can close them.
 */
export class NodeGateway implements SocketGateway {
  private readonly open = new Set<InboxConnection>();

  constructor(private readonly deps: Deps) {}

  accept: SocketGateway['accept'] = async (c, request) => {
    let connection: InboxConnection | undefined;
    const upgrade = upgradeWebSocket(() => ({
      onOpen: (_event, ws) => {
        connection = new InboxConnection(this.deps, ws, request);
        this.open.add(connection);
        connection.open().catch((error: unknown) => {
          this.deps.logger.error(
            { err: errorText(error), agent_id: request.agentId },
            'websocket open failed',
          );
          connection?.end(1011, 'the relay could not open a session');
        });
      },
      onMessage: (event) => {
        void connection?.receive(event.data);
      },
      onClose: () => {
        if (!connection) return;
        connection.detach();
        this.open.delete(connection);
      },
      onError: () => {
        connection?.detach();
      },
    }));
    const response = await upgrade(c, async () => {});
    return response ?? c.text('expected a WebSocket upgrade', 426);
  };

  /** Sockets still open; tests and metrics read it. */
  get size(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const connection of this.open) connection.end(CLOSE.goingAway, 'the relay is shutting down');
    this.open.clear();
  }
}
