// Types for event-stream.js, the one reader of text/event-stream: the dashboard loads it as a browser module and the
// CLI (src/cli/follow-job.ts) imports it, so both follow a job by the same parsing rules.

export interface ServerEvent {
  /** "message" when the server names none. */
  event: string;
  data: string;
  /** The last id the stream has set so far, for Last-Event-ID on reconnection. */
  id: string | undefined;
}

/** Yields every event of a text/event-stream body until it ends. */
export function readServerEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent>;

/**
 * Opens GET url as an event stream with the given headers: the events, or null when the server answers anything but
 * 200 text/event-stream (the caller then polls).
 */
export function openEventStream(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<AsyncGenerator<ServerEvent> | null>;
