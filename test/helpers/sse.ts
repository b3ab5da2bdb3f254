// Reads a text/event-stream response as the raw blocks the server wrote: events (id, event, data) and comments
// (": ping"), so a test sees exactly what went over the wire.
export interface StreamBlock {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface EventStreamReader {
  response: Response;
  /** The next block, or null when the stream ended. */
  next(timeoutMs?: number): Promise<StreamBlock | null>;
  /** Blocks until `stop` returns true for one (included), or the stream ends. */
  readUntil(stop: (block: StreamBlock) => boolean, timeoutMs?: number): Promise<StreamBlock[]>;
  close(): void;
}

function parseBlock(text: string): StreamBlock {
  const block: StreamBlock = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, '');
    if (colon === 0) block.comment = value;
    else if (field === 'id' || field === 'event' || field === 'data') block[field] = value;
  }
  return block;
}

export async function openEventStream(url: string, headers: Record<string, string>): Promise<EventStreamReader> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const next = async (timeoutMs = 20_000): Promise<StreamBlock | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return parseBlock(block);
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms; buffered: ${buffer}`)), Math.max(1, deadline - Date.now()))));
      try {
        const { value, done } = await Promise.race([reader.read(), timeout]);
        if (done) return null;
        buffer += value;
      } finally {
        clearTimeout(timer);
      }
    }
  };
  return {
    response,
    next,
    async readUntil(stop, timeoutMs) {
      const blocks: StreamBlock[] = [];
      for (;;) {
        const block = await next(timeoutMs);
        if (!block) return blocks;
        blocks.push(block);
        if (stop(block)) return blocks;
      }
    },
    close: () => abort.abort(),
  };
}
