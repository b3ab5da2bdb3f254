// Server-Sent Events over fetch rather than EventSource: fetch can send the API key in the Authorization header,
// so the key never appears in a URL (server logs, proxies, browser history); nor is EventSource in Node 20. The
// dashboard and the CLI (src/cli/follow-job.ts) both read events with this file: it is plain JavaScript that runs in
// either, typed by event-stream.d.ts. The parsing is the WHATWG "event stream interpretation".

/** Yields { event, data, id } for every event of a text/event-stream body until it ends. */
export async function* readServerEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let data = [];
  let id;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      // A CR at the very end may be the first half of CRLF: keep it until the next chunk.
      const lines = buffer.split(/\r\n|\n|\r(?!$)/);
      buffer = lines.pop();
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
        const text = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
        else if (field === 'id' && !text.includes('\0')) id = text;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Opens GET url as an event stream with the given headers. Resolves to an async iterable of events, or null when
 * the server answers anything but 200 text/event-stream (no such route yet, or an error): the caller then polls.
 */
export async function openEventStream(url, headers, signal) {
  const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal, cache: 'no-store' });
  if (res.status !== 200 || !res.body || !(res.headers.get('content-type') || '').startsWith('text/event-stream')) {
    res.body?.cancel().catch(() => {});
    return null;
  }
  return readServerEvents(res.body);
}
