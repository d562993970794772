/**
 * What every TypeScript example needs from the relay before the SDK takes over: where the relay is,
 * agents of its own (registered with the admin key, deleted at the end), and a way to fail loudly.
 *
 * ADMP_URL and ADMP_API_KEY are the same variables the `admp` CLI reads; without them an example
 * talks to `npm start` on this machine with the development admin key.
 */
export const RELAY_URL = (process.env.ADMP_URL ?? 'http://localhost:3030').replace(/\/+$/, '');
const ADMIN_KEY = process.env.ADMP_API_KEY ?? 'dev-admin-key';

/** Agent ids get a per-run suffix, so an example can run again and again against one relay. */
const RUN = crypto.randomUUID().slice(0, 8);

export interface Agent {
  agentId: string;
  apiKey: string;
}

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${RELAY_URL}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`cannot reach the relay at ${RELAY_URL} (is \`npm start\` running?): ${error}`);
  }
  return response;
}

/** Registers `<name>.<run>` and returns its id and API key (shown by the relay only this once). */
export async function registerAgent(name: string): Promise<Agent> {
  const response = await admin('POST', '/v1/agents', { agent_id: `${name}.${RUN}` });
  if (response.status !== 201) {
    throw new Error(`registering ${name} failed: HTTP ${response.status} ${await response.text()}`);
  }
  const body = (await response.json()) as { agent_id: string; api_key: string };
  return { agentId: body.agent_id, apiKey: body.api_key };
}

/** Removes agents with their inboxes, so repeated runs leave nothing behind. */
export async function deleteAgents(agents: Agent[]): Promise<void> {
  await Promise.all(agents.map((agent) => admin('DELETE', `/v1/agents/${agent.agentId}`)));
}

/** A failed expectation ends the example with a non-zero exit code. */
export function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
  console.log(`  ✓ ${what}`);
}

/** Polls `probe` until it returns something truthy, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs an example: prints its outcome, exits 1 on any error, and gives up after `timeoutMs` so a
 * hung example fails instead of stalling `npm run example`.
 */
export function run(name: string, example: () => Promise<void>, timeoutMs = 60_000): void {
  const timer = setTimeout(() => {
    console.error(`${name}: FAILED: still running after ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  example().then(
    () => {
      clearTimeout(timer);
      console.log(`${name}: ok`);
      // Sockets the SDK closed may linger a moment in the event loop; the outcome is known.
      process.exit(0);
    },
    (error: unknown) => {
      clearTimeout(timer);
      console.error(`${name}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
      process.exit(1);
    },
  );
}
