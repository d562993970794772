type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

const LONG_POLL = /\/v1\/agents\/[^/]+\/inbox\/pull(-batch)?$/;
const EVENT_STREAM = /\/v1\/agents\/[^/]+\/events$/;

function isLongPoll(request: Request): boolean {
  // Cheap tests first: most requests are neither and their URL need not be parsed.
  if (request.method === 'GET' && request.url.includes('/events')) {
    return EVENT_STREAM.test(new URL(request.url).pathname);
  }
  if (request.method !== 'POST' || !request.url.includes('wait=')) return false;
  const url = new URL(request.url);
  return LONG_POLL.test(url.pathname) && Number(url.searchParams.get('wait')) > 0;
}

/**
 * An event stream (GET /v1/agents/{id}/events) is held the same way, for as long as its client reads.
 *
 * A long-poll PULL (or PULL batch) holds its request open for up to 20 s, and a graceful shutdown waits for every
 * open request: one idle consumer would hold the relay past SHUTDOWN_TIMEOUT_SEC into a forced
 * exit that cuts its connection. Each long poll is given a signal that also fires when `stop`
 * does, so on shutdown it answers at once as if its wait had run out (204), and the relay stops.
 * Other requests, a SEND in flight among them, are left to finish.
 */
export function endLongPollsOn<E>(stop: AbortSignal, fetch: Fetch<E>): Fetch<E> {
  // Answers given while stopping close their connection: server.close() ends only the connections
  // idle when it is called, and a kept-alive one would hold the exit until the client lets go.
  const closing = (response: Response) => {
    if (stop.aborted) {
      try {
        response.headers.set('connection', 'close');
      } catch {
        // Immutable headers (a fetched or redirect Response): the connection idles out instead.
      }
    }
    return response;
  };
  return async (request, env) => {
    if (!isLongPoll(request)) return closing(await fetch(request, env));
    // AbortSignal.any by hand (it needs Node 20.3); the listeners go when the answer is done.
    const ended = new AbortController();
    const end = () => ended.abort();
    const signals = [stop, request.signal];
    for (const signal of signals) signal.addEventListener('abort', end, { once: true });
    if (signals.some((signal) => signal.aborted)) end();
    // A PULL carries no body, so the copy needs only the method, the URL and the headers.
    const copy = new Request(request.url, {
      method: request.method,
      headers: request.headers,
      signal: ended.signal,
    });
    const release = () => {
      for (const signal of signals) signal.removeEventListener('abort', end);
    };
    let streaming = false;
    try {
      const response = await fetch(copy, env);
      streaming = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
      return closing(response);
    } finally {
      // An event stream goes on after its answer has begun: its listeners go when it ends, which
      // the client's leaving (the request's signal) or the shutdown itself tells.
      if (streaming && !ended.signal.aborted) ended.signal.addEventListener('abort', release, { once: true });
      else release();
    }
  };
}
