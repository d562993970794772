import type { Context } from 'hono';
import type { AppEnv } from '../app-env.js';

export interface SocketRequest {
  /** The inbox, already authorized for the caller. */
  agentId: string;
  visibilityTimeoutSec: number;
}

/**
 * Turns an authenticated upgrade request into a live inbox connection. Each runtime brings its
 * own: Node upgrades in this process (node-gateway.ts), Workers hand the request to the inbox's
 * Durable Object (inbox-object.ts).
 */
export interface SocketGateway {
  accept(c: Context<AppEnv>, request: SocketRequest): Promise<Response>;
}
