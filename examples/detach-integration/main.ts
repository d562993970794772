/**
 * The Detach integration: a long-running agent (a coding agent working detached from its user)
 * that stays reachable through the relay.
 *
 * 1. It registers a session and heartbeats it: the relay knows it is online.
 * 2. It consumes its inbox with subscribe(): one consumer for everything addressed to it.
 * 3. Before a risky step it sends an approval request to a person's inbox and waits; the person
 *    answers with the `admp` CLI (pull, send, ack).
 * 4. A controller injects an instruction while it runs; the agent picks it up over subscribe(),
 *    acts on it and confirms with a reply.
 * 5. It deregisters the session when it stops.
 */
import { ADMPClient, type Message } from '@agent-dispatch/client';
import { check, deleteAgents, RELAY_URL, registerAgent, run } from '../shared/relay.js';
import { answerApproval } from './person.js';
import { Session } from './session.js';

run('detach-integration', async () => {
  const [agentCreds, personCreds, controllerCreds] = [
    await registerAgent('detach.agent'),
    await registerAgent('ops.person'),
    await registerAgent('detach.controller'),
  ];
  const agent = new ADMPClient({ relayUrl: RELAY_URL, ...agentCreds });
  const controller = new ADMPClient({ relayUrl: RELAY_URL, ...controllerCreds });

  // 1. Online: a session, kept alive by heartbeats.
  const session = await Session.open(RELAY_URL, agentCreds);
  check(session.info.heartbeat_interval_sec > 0, `session ${session.info.session_id} registered`);

  // 2. The agent's state, and the one handler through which everything reaches it.
  const plan = ['run the test suite', 'push the release tag (needs approval)'];
  const approvals = new Map<string, (answer: Message) => void>();
  const subscription = agent.subscribe(async (message) => {
    const waiting = message.correlation_id ? approvals.get(message.correlation_id) : undefined;
    if (waiting && message.type === 'task.result') return waiting(message);
    if (message.type === 'event' && message.subject === 'instruction') {
      const { action, step } = message.body as { action: string; step: string };
      if (action !== 'add_step') throw new Error(`unknown instruction ${action}`); // NACKed
      plan.push(step);
      await agent.reply(message, { result: { applied: action, plan } });
      return;
    }
    console.log(`  ignoring ${message.type} ${message.subject}`);
  });

  try {
    // 3. An approval request, answered by a person through the CLI.
    const approvalId = await agent.send({
      to: personCreds.agentId,
      type: 'task.request',
      subject: 'approval.request',
      body: { action: 'git push origin v1.4.2', reason: 'all tests pass', session: session.info.session_id },
    });
    const approved = new Promise<Message>((resolve) => approvals.set(approvalId, resolve));
    console.log(`  asked ${personCreds.agentId} for approval (${approvalId}); waiting`);
    const decision = await answerApproval(personCreds, true, 'go ahead');
    const answer = await approved;
    console.log(`  the person answered with admp: ${answer.subject} ${JSON.stringify(answer.body)}`);
    check(decision.request.id === approvalId, 'the person pulled the approval request with `admp pull`');
    check(answer.id === decision.answerId, 'the answer sent with `admp send` reached the agent');
    check(answer.from === `agent://${personCreds.agentId}` && answer.body.approved === true, 'it approves');
    const request = await agent.status(approvalId);
    check(request.status === 'acked', 'the person acked the request with `admp ack`');

    const before = session.info.expires_at;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // so the new expiry is visibly later
    check((await session.heartbeat()) === 200, 'a heartbeat keeps the session alive');
    check(session.info.expires_at > before, `its expiry moved on to ${session.info.expires_at}`);

    // 4. Remote instruction injection: the controller pushes an instruction into the running agent.
    const instructionId = await controller.send({
      to: agentCreds.agentId,
      type: 'event',
      subject: 'instruction',
      body: { action: 'add_step', step: 'post the release notes' },
    });
    const confirmation = await controller.waitForReply(instructionId, { timeoutMs: 15_000 });
    console.log(`  the agent confirmed the instruction: ${JSON.stringify(confirmation.body)}`);
    check(plan.at(-1) === 'post the release notes', 'the agent acted on the instruction');
    check(confirmation.body.applied === 'add_step', 'and confirmed it to the controller');
    const instruction = await controller.status(instructionId);
    check(instruction.status === 'acked', 'reply() acked the instruction as it answered it');
  } finally {
    await subscription.close();
    // 5. Offline: deregister, after which the session is gone.
    const closed = await session.close();
    check(closed === 204, 'the session is deregistered');
    check((await session.heartbeat()) === 404, 'a heartbeat on it is now 404');
    await deleteAgents([agentCreds, personCreds, controllerCreds]);
  }
});
