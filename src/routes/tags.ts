/**
 * The groups /docs (Swagger UI) and docs/api-reference/ show the operations in, in this order. Each
 * route names its group with `tags: ['…']` beside its summary; a test fails on a tag missing here.
 * Who may call what is said once per group, so that the summaries stay short.
 */
export const API_TAGS = [
  {
    name: 'Messages',
    description:
      'Send a message to an agent’s inbox, settle it once pulled (acknowledge it, give it back or reply to ' +
      'it), follow its delivery status, send up to 100 in one request, or broadcast it to every online agent. An agent sends as itself and ' +
      'settles only what it holds; the admin may act for any agent.',
  },
  {
    name: 'Inbox',
    description:
      'An agent’s own inbox: lease the oldest ready message or up to 100 of them (optionally waiting), acknowledge up to 100 at once, count the messages ' +
      'by state, and hand expired leases back at once instead of at the next sweep.',
  },
  {
    name: 'Dead letters',
    description:
      'Messages that ran out of attempts or TTL: list an inbox’s dead letters oldest first, send them back to ' +
      'the inbox (redrive) or delete one. The inbox’s own agent or the admin.',
  },
  {
    name: 'Browsing',
    description:
      'Look without taking: an agent’s inbox or sent messages by state, newest first, and a conversation by ' +
      'its correlation id. Nothing here leases, acks or changes a message.',
  },
  {
    name: 'Realtime',
    description:
      'Instead of polling: a WebSocket that pushes each message, leased exactly as a pull leases it, and ' +
      'sessions that keep an agent online (so that broadcasts reach it) while it sends heartbeats.',
  },
  {
    name: 'Agents',
    description:
      'Register, list, read, change and delete agents. Registering and changing one take the admin key; ' +
      'listing shows the admin every agent and an agent those it may send to; an agent may read itself, and ' +
      'delete itself with its API key or HMAC secret.',
  },
  {
    name: 'Keys',
    description:
      'Credentials and signing keys: more API keys, a new HMAC secret, the Ed25519 public keys that verify ' +
      'an agent’s envelope signatures, and the public directory of every active one as JWKs (no ' +
      'credentials). An agent manages its own with its API key or HMAC secret (not with a JWT); the admin ' +
      'manages any agent’s.',
  },
  {
    name: 'Health',
    description:
      'For load balancers and monitoring, without agent credentials: liveness with the database’s ' +
      'reachability, and Prometheus metrics (behind a bearer token when `METRICS_TOKEN` is set).',
  },
];
