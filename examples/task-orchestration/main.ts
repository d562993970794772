/**
 * Task orchestration: an orchestrator fans a job out as tasks to a pool of parallel workers and
 * gathers the results, matching each to its task by correlation id.
 *
 * Of the eight tasks, six succeed at once, one fails transiently (NACKed, retried, then answered)
 * and one fails every time and ends in the dead letters, which the orchestrator finds through
 * STATUS and the workers' inbox stats.
 */
import { ADMPClient, type Message } from '@agent-dispatch/client';
import { check, deleteAgents, eventually, RELAY_URL, registerAgent, run } from '../shared/relay.js';
import { type Delivery, type Mode, startWorker, type Task } from './worker.js';

const WORKERS = 3;
const MODES: Mode[] = ['ok', 'ok', 'flaky', 'ok', 'ok', 'poison', 'ok', 'ok'];
// The relay's MAX_ATTEMPTS (3 by default): deliveries before a message is dead.
const MAX_ATTEMPTS = Number(process.env.MAX_ATTEMPTS ?? 3);

run('task-orchestration', async () => {
  const [orchestratorAgent, poolAgent] = [
    await registerAgent('orchestrator'),
    await registerAgent('workers'),
  ];
  const orchestrator = new ADMPClient({ relayUrl: RELAY_URL, ...orchestratorAgent });
  // One agent, one inbox, several consumers: each worker process holds the same credentials.
  const log: Delivery[] = [];
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    startWorker(`worker-${i + 1}`, new ADMPClient({ relayUrl: RELAY_URL, ...poolAgent }), log),
  );

  // Results come back to the orchestrator's inbox; the correlation id says which task each answers.
  const job = crypto.randomUUID().slice(0, 8);
  const correlationOf = (task: number) => `job-${job}/task-${task}`;
  const results = new Map<string, Message>();
  let arrivals = 0;
  const collector = orchestrator.subscribe(async (message) => {
    arrivals++;
    if (message.correlation_id) results.set(message.correlation_id, message);
  });

  try {
    const sent = await Promise.all(
      MODES.map((mode, task) => {
        const body: Task = { task, mode, n: task + 2 };
        return orchestrator.send({
          to: poolAgent.agentId,
          type: 'task.request',
          subject: 'square',
          body: { ...body },
          correlationId: correlationOf(task),
        });
      }),
    );
    console.log(`  fanned out ${sent.length} tasks to ${WORKERS} workers`);

    const answerable = MODES.flatMap((mode, task) => (mode === 'poison' ? [] : [task]));
    await eventually('every answerable task to be answered', async () =>
      answerable.every((task) => results.has(correlationOf(task))),
    );
    for (const task of answerable) {
      const result = results.get(correlationOf(task))?.body as { task: number; square: number };
      check(
        result.task === task && result.square === (task + 2) ** 2,
        `task ${task} answered: ${result.square}`,
      );
    }
    check(arrivals === answerable.length, 'each answerable task was answered once, and nothing else arrived');

    const workersUsed = new Set(log.filter((d) => d.outcome === 'answered').map((d) => d.worker));
    console.log(`  workers that answered: ${[...workersUsed].sort().join(', ')}`);
    check(workersUsed.size > 1, 'the tasks were shared between workers');

    const flaky = MODES.indexOf('flaky');
    const flakyRuns = log.filter((d) => d.task === flaky);
    check(
      flakyRuns.map((d) => d.outcome).join(',') === 'failed,answered',
      'the flaky task failed once, was delivered again and then answered',
    );
    const flakyResult = results.get(correlationOf(flaky))?.body as { attempts: number };
    check(flakyResult.attempts === 1, 'its answer came from the second delivery (attempts = 1)');

    // The poison task: NACKed on every delivery until the relay gives up on it.
    const poison = MODES.indexOf('poison');
    const poisonId = sent[poison] as string;
    const dead = await eventually('the poison task to be dead', async () => {
      const status = await orchestrator.status(poisonId);
      return status.status === 'dead' ? status : undefined;
    });
    console.log(`  task ${poison}: ${dead.status} after ${dead.attempts} attempts: ${dead.last_error}`);
    check(
      dead.attempts === MAX_ATTEMPTS,
      `the poison task was delivered ${MAX_ATTEMPTS} times, then given up`,
    );
    check(dead.last_error?.startsWith('Max attempts exceeded') === true, 'its last_error says why');
    check(
      log.filter((d) => d.task === poison).every((d) => d.outcome === 'failed'),
      'no worker ever answered it',
    );
    const stats = await new ADMPClient({ relayUrl: RELAY_URL, ...poolAgent }).inboxStats();
    check(stats.dead === 1 && stats.ready === 0, "the workers' inbox: nothing ready, one dead letter");
  } finally {
    await Promise.all([collector.close(), ...workers.map((worker) => worker.close())]);
    await deleteAgents([orchestratorAgent, poolAgent]);
  }
});
