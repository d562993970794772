import { type Relay, RelayError } from './api';

// While the event stream is down (or the relay has none), the listing is re-read this often;
// listing never leases, so polling takes nothing from the agent's consumers.
const POLL_MS = 1000;
// The stream tells of messages becoming ready, acked or dead, not of leases or of messages the
// agent sent, so the views are re-read now and then even while it is open.
const STREAMING_POLL_MS = 5000;
// After a dropped stream, try again soon; after a refusal (a relay without event streams, such
// as the Workers build, answers 503 or 404), rarely.
const RECONNECT_MS = 5000;
const REFUSED_RETRY_MS = 60_000;

/**
 * Calls `onChange` whenever the agent's inbox may have changed: on each event of the relay's
 * notify-only stream (`GET /v1/agents/{id}/events`, read with fetch so the key stays in a header),
 * and on a timer, every second while that stream is not open. Never leases, acks or otherwise
 * touches a message. Returns the function that stops watching.
 */
export function watchInbox(relay: Relay, agentId: string, onChange: () => void): () => void {
  const stop = new AbortController();
  let streaming = false;
  let idle = 0;
  const poll = setInterval(() => {
    idle += POLL_MS;
    if (!streaming || idle >= STREAMING_POLL_MS) {
      idle = 0;
      onChange();
    }
  }, POLL_MS);

  const openStream = async () => {
    const url = `/v1/agents/${encodeURIComponent(agentId)}/events`;
    const response = await relay.request('GET', url, undefined, stop.signal);
    if (!response.body) return;
    streaming = true;
    // Anything missed while the stream was down is picked up by re-reading once.
    onChange();
    const chunks = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let partial = '';
    for (;;) {
      const { done, value } = await chunks.read();
      if (done) return;
      const lines = (partial + value).split('\n');
      partial = lines.pop() ?? '';
      // `data:` lines are events; lines starting with `:` are the stream's keep-alive comments.
      if (lines.some((line) => line.startsWith('data:'))) {
        idle = 0;
        onChange();
      }
    }
  };

  const run = async () => {
    while (!stop.signal.aborted) {
      let wait = RECONNECT_MS;
      try {
        await openStream();
      } catch (error) {
        if (error instanceof RelayError && error.status !== 0) wait = REFUSED_RETRY_MS;
      }
      streaming = false;
      if (stop.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  void run();

  return () => {
    stop.abort();
    clearInterval(poll);
  };
}
