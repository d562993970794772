/** What a Server-Sent Events stream has said so far: its events' data (JSON) and its comments. */
export interface EventStream {
  /** The next event whose data matches, waiting for it; the events before it are passed over. */
  next(match?: (data: any) => boolean, timeoutMs?: number): Promise<any>;
  events(): any[];
  comments(): string[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/**
 * Reads a `text/event-stream` response as a browser's `fetch` would. Waits are generous: a wait
 * for an event, never a claim about how fast it comes.
 */
export function readEvents(response: Response, abort?: AbortController): EventStream {
  const events: any[] = [];
  const comments: string[] = [];
  let taken = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim());
        for (const line of block.split('\n')) if (line.startsWith(':')) comments.push(line.slice(1).trim());
        if (data.length > 0) events.push(JSON.parse(data.join('\n')));
        end = buffer.indexOf('\n\n');
      }
    }
  })();
  return {
    async next(match = () => true, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        for (; taken < events.length; taken++) {
          if (match(events[taken])) return events[taken++];
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
    },
    events: () => events,
    comments: () => comments,
    ended,
    close() {
      abort?.abort();
      void reader.cancel().catch(() => {});
    },
  };
}
