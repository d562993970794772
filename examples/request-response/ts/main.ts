/**
 * Request-response: `pricing` asks `tax` for the tax on an order and waits for the answer.
 *
 * The responder consumes its inbox with subscribe() (a WebSocket, or long polling) and answers each
 * task with reply(), which sends a task.result carrying the request's correlation id and acks the
 * request in one step. The requester send()s and then waitForReply()s on that id.
 */
import { ADMPClient, type Message } from '@agent-dispatch/client';
import { check, deleteAgents, RELAY_URL, registerAgent, run } from '../../shared/relay.js';

const TAX_RATE = 0.2;

run('request-response (TypeScript)', async () => {
  const [pricingAgent, taxAgent] = [await registerAgent('pricing'), await registerAgent('tax')];
  const pricing = new ADMPClient({ relayUrl: RELAY_URL, ...pricingAgent });
  const tax = new ADMPClient({ relayUrl: RELAY_URL, ...taxAgent });

  // The responder: every task.request gets a task.result with the computed tax.
  const answered: Message[] = [];
  const subscription = tax.subscribe(async (request) => {
    const { amount_cents } = request.body as { amount_cents: number };
    await tax.reply(request, { result: { tax_cents: Math.round(amount_cents * TAX_RATE), rate: TAX_RATE } });
    answered.push(request);
  });

  try {
    // The requester: send a task, then wait for the answer that names it.
    const requestId = await pricing.send({
      to: taxAgent.agentId,
      type: 'task.request',
      subject: 'compute_tax',
      body: { order: 'A-1001', amount_cents: 12_345 },
    });
    console.log(`  sent task.request ${requestId}`);
    const answer = await pricing.waitForReply(requestId, { timeoutMs: 15_000 });
    console.log(`  got ${answer.type} ${JSON.stringify(answer.body)}`);

    check(answer.type === 'task.result', 'the answer is a task.result');
    check(answer.correlation_id === requestId, "the answer's correlation_id is the request's id");
    check(answer.from === `agent://${taxAgent.agentId}`, 'the answer comes from the tax agent');
    check(answer.body.tax_cents === 2469, 'the tax is 20 % of 123.45, rounded: 24.69');
    check(
      answered.length === 1 && answered[0]?.id === requestId,
      'the responder handled exactly that request',
    );

    // waitForReply() only read the answer: it waits in the requester's inbox, so take it off.
    const held = await pricing.pull();
    check(held?.id === answer.id, "the answer waits in the requester's inbox until it is pulled");
    if (held) await pricing.ack(held);

    // reply() acked the request and the requester acked the answer: nothing is left to deliver.
    const request = await pricing.status(requestId);
    check(request.status === 'acked', 'the request is acked');
    const [pricingInbox, taxInbox] = [await pricing.inboxStats(), await tax.inboxStats()];
    check(pricingInbox.ready + pricingInbox.leased === 0, "the requester's inbox is empty");
    check(taxInbox.ready + taxInbox.leased === 0, "the responder's inbox is empty");
  } finally {
    await subscription.close();
    await deleteAgents([pricingAgent, taxAgent]);
  }
});
