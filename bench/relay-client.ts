import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { authenticate, type Credential, type Issued } from './credentials.js';

/** Long enough for a loaded relay, short enough that a hung one cannot stall the run past its bound. */
const REQUEST_TIMEOUT_MS = 30_000;
const VISIBILITY_TIMEOUT_SEC = 30;
const PAD = 'x'.repeat(64);

export interface Agent {
  readonly id: string;
  readonly credential: Credential;
}

export interface Lease {
  readonly messageId: string;
  readonly leaseId: string;
  readonly body: unknown;
}

/** Anything that should stop the run: the message is meant for a person reading a terminal. */
export class BenchFailure extends Error {}

/** A thin client over the wire contract (docs: SPEC.md, Endpoints), one method per call the bench makes. */
export class RelayClient {
  // node:http rather than fetch: on a 2-core box the load generator competes with the relay for
  // CPU, and undici's Web-stream plumbing costs the client several times what a plain request does.
  private readonly agent = new HttpAgent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly baseUrl: string) {}

  async registerAgent(adminKey: string, agentId: string, tier: string): Promise<Issued> {
    const admin = { bearer: adminKey };
    const { json } = await this.request('register agent', 'POST', '/v1/agents', admin, [201], {
      agent_id: agentId,
      tier,
    });
    return {
      id: agentId,
      apiKey: readString(json, 'api_key', 'register agent'),
      hmacSecret: readString(json, 'hmac_secret', 'register agent'),
    };
  }

  async issueKey(adminKey: string, agentId: string, tier: string): Promise<Issued> {
    const path = `/v1/agents/${encodeURIComponent(agentId)}/api-keys`;
    const { json } = await this.request('issue API key', 'POST', path, { bearer: adminKey }, [201], { tier });
    return { id: agentId, apiKey: readString(json, 'api_key', 'issue API key'), hmacSecret: undefined };
  }

  /** `body` defaults to the small body the driver has always sent, so its figures stay comparable. */
  async send(sender: Agent, recipient: Agent, n: number, body: object = { n, pad: PAD }): Promise<void> {
    const path = `/v1/agents/${encodeURIComponent(recipient.id)}/messages`;
    await this.request('send', 'POST', path, sender.credential, [201], envelope(sender, recipient, body));
  }

  /** Resolves to null when the inbox is empty (204), at once or, with `waitSec`, at the end of the wait. */
  async pull(agent: Agent, waitSec = 0): Promise<Lease | null> {
    const wait = waitSec > 0 ? `&wait=${waitSec}` : '';
    const path = `${inboxPath(agent)}/pull?visibility_timeout=${VISIBILITY_TIMEOUT_SEC}${wait}`;
    const { status, json } = await this.request('pull', 'POST', path, agent.credential, [200, 204]);
    if (status === 204) return null;
    return toLease(json, 'pull');
  }

  async ack(agent: Agent, lease: Lease): Promise<void> {
    const path =
      `/v1/agents/${encodeURIComponent(agent.id)}/messages/${encodeURIComponent(lease.messageId)}/ack` +
      `?lease_id=${encodeURIComponent(lease.leaseId)}`;
    await this.request('ack', 'POST', path, agent.credential, [200]);
  }

  /** SEND batch (SPEC: Batches): every item must come back delivered. */
  async sendBatch(sender: Agent, recipient: Agent, bodies: readonly object[]): Promise<void> {
    const messages = bodies.map((body) => envelope(sender, recipient, body));
    const { json } = await this.request(
      'send batch',
      'POST',
      '/v1/messages/batch',
      sender.credential,
      [200],
      {
        messages,
      },
    );
    expectAll(json, 'delivered', bodies.length, 'send batch');
  }

  async pullBatch(agent: Agent, max: number, waitSec = 0): Promise<Lease[]> {
    const path =
      `${inboxPath(agent)}/pull-batch?max_messages=${max}` +
      `&visibility_timeout=${VISIBILITY_TIMEOUT_SEC}&wait=${waitSec}`;
    const { json } = await this.request('pull batch', 'POST', path, agent.credential, [200]);
    const messages = (json as { messages?: unknown } | undefined)?.messages;
    if (!Array.isArray(messages))
      throw new BenchFailure(`pull batch: no "messages" array: ${JSON.stringify(json)}`);
    return messages.map((message) => toLease(message, 'pull batch'));
  }

  async ackBatch(agent: Agent, leases: readonly Lease[]): Promise<void> {
    const acks = leases.map((lease) => ({ message_id: lease.messageId, lease_id: lease.leaseId }));
    const { json } = await this.request(
      'ack batch',
      'POST',
      `${inboxPath(agent)}/ack-batch`,
      agent.credential,
      [200],
      {
        acks,
      },
    );
    expectAll(json, 'acked', leases.length, 'ack batch');
  }

  /**
   * The batch endpoints this relay lacks, by path: each is called with a request that changes
   * nothing (an empty pull, an empty list), and only a 404 counts as missing.
   */
  async missingBatchEndpoints(agent: Agent): Promise<string[]> {
    const probes: [string, string, unknown][] = [
      ['pull-batch', `${inboxPath(agent)}/pull-batch?max_messages=1`, undefined],
      ['batch', '/v1/messages/batch', { messages: [] }],
      ['ack-batch', `${inboxPath(agent)}/ack-batch`, { acks: [] }],
    ];
    const missing: string[] = [];
    for (const [name, path, body] of probes) {
      const { status } = await this.request(name, 'POST', path, agent.credential, [200, 400, 404, 422], body);
      if (status === 404) missing.push(`POST ${path.split('?')[0]}`);
    }
    return missing;
  }

  /** `json` is the parsed body, or undefined when the body is empty. */
  private async request(
    operation: string,
    method: string,
    path: string,
    credential: Credential,
    expected: readonly number[],
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const signed = authenticate(credential, method, new URL(`${this.baseUrl}${path}`), raw);
    const url = signed.url.href;
    const headers = signed.headers;
    if (body !== undefined) headers['content-type'] = 'application/json';

    let response: { status: number; text: string };
    try {
      response = await exchange(this.agent, url, method, headers, body === undefined ? undefined : raw);
    } catch (error) {
      throw new BenchFailure(`${operation}: ${method} ${url} failed: ${describe(error)}`);
    }
    const { text } = response;

    if (!expected.includes(response.status)) {
      throw new BenchFailure(
        `${operation}: ${method} ${url} answered ${response.status} (expected ${expected.join(' or ')})\n` +
          `response body: ${text === '' ? '(empty)' : text}`,
      );
    }
    return { status: response.status, json: text === '' ? undefined : parseJson(text, operation) };
  }
}

/** One HTTP exchange on a keep-alive agent: the status and the whole body as text. */
export function exchange(
  agent: HttpAgent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function envelope(sender: Agent, recipient: Agent, body: object) {
  return {
    id: randomUUID(),
    type: 'task.request',
    from: `agent://${sender.id}`,
    to: `agent://${recipient.id}`,
    subject: 'bench',
    body,
    timestamp: new Date().toISOString(),
  };
}

const inboxPath = (agent: Agent) => `/v1/agents/${encodeURIComponent(agent.id)}/inbox`;

function toLease(json: unknown, operation: string): Lease {
  const body = typeof json === 'object' && json !== null ? (json as { body?: unknown }).body : undefined;
  return {
    messageId: readString(json, 'id', operation),
    leaseId: readString(json, 'lease_id', operation),
    body,
  };
}

/** A batch answers 200 whatever its items did, so each item's status is checked here. */
function expectAll(json: unknown, status: string, count: number, operation: string): void {
  const results = (json as { results?: unknown } | undefined)?.results;
  const ok = Array.isArray(results) && results.length === count && results.every((r) => r?.status === status);
  if (!ok) throw new BenchFailure(`${operation}: not every item is ${status}: ${JSON.stringify(json)}`);
}

function parseJson(text: string, operation: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BenchFailure(`${operation}: response is not JSON: ${text}`);
  }
}

function readString(json: unknown, field: string, operation: string): string {
  const value =
    typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string') {
    throw new BenchFailure(`${operation}: response has no string "${field}": ${JSON.stringify(json)}`);
  }
  return value;
}

/** Network errors may hide the useful part (ECONNREFUSED, a timeout) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
