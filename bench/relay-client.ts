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

  async send(sender: Agent, recipient: Agent, n: number): Promise<void> {
    const envelope = {
      id: randomUUID(),
      type: 'task.request',
      from: `agent://${sender.id}`,
      to: `agent://${recipient.id}`,
      subject: 'bench',
      body: { n, pad: PAD },
      timestamp: new Date().toISOString(),
    };
    const path = `/v1/agents/${encodeURIComponent(recipient.id)}/messages`;
    await this.request('send', 'POST', path, sender.credential, [201], envelope);
  }

  /** Resolves to null when the inbox is empty (204). */
  async pull(agent: Agent): Promise<Lease | null> {
    const path = `/v1/agents/${encodeURIComponent(agent.id)}/inbox/pull?visibility_timeout=${VISIBILITY_TIMEOUT_SEC}`;
    const { status, json } = await this.request('pull', 'POST', path, agent.credential, [200, 204]);
    if (status === 204) return null;
    return { messageId: readString(json, 'id', 'pull'), leaseId: readString(json, 'lease_id', 'pull') };
  }

  async ack(agent: Agent, lease: Lease): Promise<void> {
    const path =
      `/v1/agents/${encodeURIComponent(agent.id)}/messages/${encodeURIComponent(lease.messageId)}/ack` +
      `?lease_id=${encodeURIComponent(lease.leaseId)}`;
    await this.request('ack', 'POST', path, agent.credential, [200]);
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
      response = await send(this.agent, url, method, headers, body === undefined ? undefined : raw);
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

function send(
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
