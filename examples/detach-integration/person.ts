/**
 * The person who approves or refuses what the agent asks for, using nothing but the `admp` CLI: the
 * same three commands the README shows a human typing (pull, send, ack). The example runs them as
 * child processes so that the whole story can be checked end to end.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Agent, RELAY_URL } from '../shared/relay.js';

const ADMP = fileURLToPath(new URL('../../bin/admp.js', import.meta.url));

async function admp(person: Agent, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [ADMP, ...args], {
    env: { ...process.env, ADMP_URL: RELAY_URL, ADMP_AGENT_ID: person.agentId, ADMP_API_KEY: person.apiKey },
  });
  return stdout.trim();
}

export interface Decision {
  request: { id: string; from: string; subject: string; body: Record<string, unknown> };
  answerId: string;
}

/** Waits for the next request in the person's inbox and answers it with `approved`. */
export async function answerApproval(person: Agent, approved: boolean, note: string): Promise<Decision> {
  // admp pull --wait 20: the request, leased to the person for 30 s.
  const pulled = await admp(person, 'pull', '--wait', '20');
  if (!pulled) throw new Error('the approval request never reached the person');
  const request = JSON.parse(pulled) as Decision['request'] & { lease_id: string };
  // admp send: the answer goes back to the agent, tied to the request by its correlation id.
  const answerId = await admp(
    person,
    'send',
    request.from,
    '--type',
    'task.result',
    '--subject',
    approved ? 'approval.granted' : 'approval.refused',
    '--correlation-id',
    request.id,
    '--body',
    JSON.stringify({ approved, note }),
  );
  // admp ack: the request is settled and never delivered to the person again.
  await admp(person, 'ack', request.id, '--lease-id', request.lease_id);
  return { request, answerId };
}
