type Fetch<E> = (request: Request, env: E) => Response | Promise<Response>;

/**
 * Answers given once `stop` has fired close their connection: server.close() ends only the
 * connections idle when it is called, and a kept-alive one would hold the exit until the client
 * lets go. (Waiting long polls end through `Deps.stopping`, answering 204 at once.)
 */
export function closeConnectionsOnceStopped<E>(stop: AbortSignal, fetch: Fetch<E>): Fetch<E> {
  return async (request, env) => {
    const response = await fetch(request, env);
    if (stop.aborted) {
      try {
        response.headers.set('connection', 'close');
      } catch {
        // Immutable headers (a fetched or redirect Response): the connection idles out instead.
      }
    }
    return response;
  };
}
