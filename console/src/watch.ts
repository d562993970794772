import type { Relay } from './api';

// While the event stream is down (or the relay has none), the listing is re-read this often;
// listing never leases, so polling takes nothing from the agent's consumers.
const POLL_MS = 1000;
// How long to wait before opening the stream again after it failed or dropped.
const RECONNECT_MS = 5000;

/**
 * Calls `onChange` whenever the agent's inbox may have changed: on each event of the relay's
 * notify-only stream (`GET /v1/agents/{id}/events`, read with fetch so the key stays in a header),
 * and every POLL_MS while that stream is not open. Never leases, acks or otherwise touches a
 * message. Returns the function that stops watching.
 */
export function watchInbox(relay: Relay, agentId: string, onChange: () => void): () => void {
  const stop = new AbortController();
  let streaming = false;
  const poll = setInterval(() => {
    if (!streaming) onChange();
  }, POLL_MS);

  const openStream = async () => {
    const url = `/v1/agents/${encodeURIComponent(agentId)}/events`;
    const response = await relay.request('GET', url, undefined, stop.signal);
    if (!response.body) return;
    streaming = true;
    // Anything missed while the stream was down is picked up by re-reading the listing once.
    onChange();
    const reader = response.body.getReader();
    for (;;) {
      const { done } = await reader.read();
      if (done) return;
      onChange();
    }
  };

  const run = async () => {
    while (!stop.signal.aborted) {
      try {
        await openStream();
      } catch {
        // A relay without the stream, or a dropped connection: polling covers the gap.
      }
      streaming = false;
      if (stop.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  };
  void run();

  return () => {
    stop.abort();
    clearInterval(poll);
  };
}
