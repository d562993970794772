type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

const LONG_POLL = /\/v1\/agents\/[^/]+\/inbox\/pull(-batch)?$/;

function isLongPoll(request: Request): boolean {
  // Cheap test first: most requests are not PULLs and their URL need not be parsed.
  if (request.method !== 'POST' || !request.url.includes('wait=')) return false;
  const url = new URL(request.url);
  return LONG_POLL.test(url.pathname) && Number(url.searchParams.get('wait')) > 0;
}

/**
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
    // AbortSignal.any by hand (it needs Node 20.3); the listeners go when the answer is ready.
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
    try {
      return closing(await fetch(copy, env));
    } finally {
      for (const signal of signals) signal.removeEventListener('abort', end);
    }
  };
}
