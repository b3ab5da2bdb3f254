// A reader of text/event-stream (the WHATWG "event stream interpretation"): fetch gives the body as bytes, and
// EventSource is not in Node 20 (nor could it send the Authorization header).

export interface ServerEvent {
  /** "message" when the server names none. */
  event: string;
  data: string;
  /** The last id the stream has set so far, for Last-Event-ID on reconnection. */
  id: string | undefined;
}

/** Yields every event of the stream until it ends. */
export async function* readServerEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    // A CR at the very end may be the first half of CRLF: wait for the next chunk before reading the line.
    const lines = buffer.split(/\r\n|\n|\r(?!$)/);
    buffer = lines.pop()!;
    for (const line of lines) {
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // a comment: keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) id = value;
    }
  }
}
