import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { authenticate } from './credentials.js';
import type { Options } from './options.js';
import { BenchFailure } from './relay-client.js';
import type { Measurement } from './report.js';
import type { Worker } from './run.js';
import { LatencyLog } from './stats.js';

/** Opens each recipient's WebSocket and resolves once the relay has welcomed it. */
function listen(
  options: Options,
  worker: Worker,
  onMessage: (n: number, at: number) => void,
): Promise<WebSocket> {
  const base = new URL(`/v1/agents/${encodeURIComponent(worker.recipient.id)}/ws`, options.url);
  const { url, headers } = authenticate(worker.recipient.credential, 'GET', base, '');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(String(data));
      if (frame.type === 'welcome') resolve(ws);
      else if (frame.type === 'ping') ws.send('{"type":"pong"}');
      else if (frame.type === 'message') {
        onMessage(frame.message.body.n, at);
        ws.send(JSON.stringify({ type: 'ack', message_id: frame.message.id }));
      }
    });
  });
}

/**
 * Open loop: SENDs leave at a fixed pace whatever the relay's answers, round-robin over the
 * workers, and each message is timed from the moment its SEND was issued to the moment its push
 * frame arrived, so a slow relay shows as latency rather than as a lower rate.
 */
export async function measurePush(
  workers: readonly Worker[],
  options: Options,
  prefix: string,
): Promise<Measurement> {
  const issuedAt = new Float64Array(options.count);
  const seen = new Uint8Array(options.count);
  const push = new LatencyLog();
  const send = new LatencyLog();
  let pushed = 0;
  let allPushed: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allPushed = resolve;
  });
  const sockets = await Promise.all(
    workers.map((worker) =>
      listen(options, worker, (n, at) => {
        if (!(n >= 0 && n < options.count) || seen[n]) return;
        seen[n] = 1;
        if (n >= options.warmup) push.record(at - (issuedAt[n] as number));
        if (++pushed === options.count) allPushed();
      }),
    ),
  );

  const intervalMs = 1000 / options.rate;
  const start = performance.now();
  const deadline = start + options.maxSeconds * 1000;
  let measuredFrom = start;
  for (let n = 0; n < options.count; n++) {
    const due = start + n * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (n === options.warmup) measuredFrom = performance.now();
    const worker = workers[n % workers.length] as Worker;
    issuedAt[n] = performance.now();
    void worker.relay.send(worker.sender, worker.recipient, n).then(
      () => {
        if (n >= options.warmup) send.record(performance.now() - (issuedAt[n] as number));
      },
      (error: unknown) => {
        throw new BenchFailure(`send ${n}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }
  const stoppedEarly = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(true), Math.max(0, deadline - performance.now())),
    ),
  ]);
  const seconds = (performance.now() - measuredFrom) / 1000;
  for (const ws of sockets) ws.close();
  return {
    prefix,
    completed: Math.max(0, pushed - options.warmup),
    seconds,
    stoppedEarly,
    ops: { push: push.summarize(), send: send.summarize() },
  };
}
