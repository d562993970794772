import type { McpRelay } from './relay.js';

/**
 * The leases one MCP session took with `check_inbox` and has not settled yet, so that the end of
 * the session can give them back at once instead of leaving them to run out.
 */
export class LeaseBook {
  readonly #held = new Map<string, string>();

  took(messageId: string, leaseId: string): void {
    this.#held.set(messageId, leaseId);
  }

  settled(messageId: string): void {
    this.#held.delete(messageId);
  }

  get size(): number {
    return this.#held.size;
  }

  /**
   * NACKs every lease still held: each message is ready for another consumer now, with the one
   * attempt an expired lease would have cost anyway. Never ACKs: an unfinished task must not be
   * lost. A lease that ran out or went elsewhere in the meantime is simply skipped.
   */
  async release(relay: McpRelay): Promise<number> {
    const held = [...this.#held];
    this.#held.clear();
    const results = await Promise.allSettled(
      held.map(([id, leaseId]) => relay.nack({ id, lease_id: leaseId })),
    );
    return results.filter((r) => r.status === 'fulfilled').length;
  }
}
