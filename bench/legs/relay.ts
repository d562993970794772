/**
 * `relay` and `relay-batch`: the relay process this run started, over loopback HTTP with the
 * bench's node:http client, each pair's agents holding `unlimited`-tier API keys (no rate-limit
 * statement per request). A consumer on an empty inbox long-polls (`wait=1`): the relay holds
 * the request until a message lands, the way its users are told to pull, instead of asking again
 * and again; the lease figure starts when the message was stored, so the wait is not in it.
 */
import pg from 'pg';
import type { Agent, Lease } from '../relay-client.js';
import { payload, type Queue } from '../workload.js';
import type { LegContext, OpenedLeg, OpenLeg, RelayTarget } from './leg.js';

const WAIT_SEC = 1;

type Leased = Lease & { readonly n: number };

function toLeased(lease: Lease): Leased {
  const n = (lease.body as { n?: unknown } | undefined)?.n;
  if (typeof n !== 'number') throw new Error(`relay: message ${lease.messageId} has no body.n`);
  return { ...lease, n };
}

interface Pair {
  readonly sender: Agent;
  readonly recipient: Agent;
}

/** Producer i sends as sender i to recipient i; consumer i pulls recipient i's inbox. */
function pairsOf({ senders, recipients }: RelayTarget): (i: number) => Pair {
  return (i) => {
    const [sender, recipient] = [senders[i], recipients[i]];
    if (!sender || !recipient) throw new Error(`relay: no agents for pair ${i}`);
    return { sender, recipient };
  };
}

function single(relay: RelayTarget): Queue<Leased> {
  const { client } = relay;
  const pair = pairsOf(relay);
  return {
    async send(p, [n = 0]) {
      const { sender, recipient } = pair(p);
      await client.send(sender, recipient, n, payload(n));
    },
    async lease(c) {
      const lease = await client.pull(pair(c).recipient, WAIT_SEC);
      return lease ? [toLeased(lease)] : [];
    },
    async ack(c, [leased]) {
      if (leased) await client.ack(pair(c).recipient, leased);
    },
  };
}

function batched(relay: RelayTarget, size: number): Queue<Leased> {
  const { client } = relay;
  const pair = pairsOf(relay);
  return {
    send: (p, ns) => client.sendBatch(pair(p).sender, pair(p).recipient, ns.map(payload)),
    async lease(c) {
      return (await client.pullBatch(pair(c).recipient, size, WAIT_SEC)).map(toLeased);
    },
    ack: (c, leased) => client.ackBatch(pair(c).recipient, leased),
  };
}

/**
 * Empties the relay's message table between legs. Seeded history stays (its subject is
 * `history`), and a vacuum then clears the dead rows, as autovacuum would, so no leg pulls
 * through what the one before left. On PGlite the table lives inside the relay and cannot be
 * reached: there the acked rows of earlier legs stay, outside the index that finds ready ones.
 */
async function cleanRelayTable(context: LegContext): Promise<void> {
  if (!context.databaseUrl) return;
  const db = new pg.Client({ connectionString: context.databaseUrl });
  await db.connect();
  try {
    if (context.history === 0) await db.query('truncate message');
    else {
      await db.query(`delete from message where subject <> 'history'`);
      await db.query('vacuum analyze message');
    }
  } finally {
    await db.end();
  }
}

/** `batch` 1 is `relay`; anything more is `relay-batch`, skipped while the relay lacks the endpoints. */
export function relayLeg(batch: number): OpenLeg {
  return async (context: LegContext): Promise<OpenedLeg | string> => {
    const relay = context.relay;
    if (!relay) return 'no relay was started';
    if (batch > 1) {
      const missing = await relay.client.missingBatchEndpoints(pairsOf(relay)(0).recipient);
      if (missing.length > 0) return `the relay answers 404 for ${missing.join(', ')} (SPEC "Batches")`;
    }
    return {
      queue: batch === 1 ? single(relay) : batched(relay, batch),
      server: relay.pid,
      clean: () => cleanRelayTable(context),
      close: async () => {},
    };
  };
}
