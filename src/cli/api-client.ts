// The few HTTP calls the client makes, with the API's error body ({ error: { code, message } }) turned into errors.
import { CliError } from './errors.js';
import type { Settings } from './settings.js';

export class ApiError extends CliError {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

type Body = { json: unknown } | { csv: string };

export class ApiClient {
  constructor(private readonly settings: Settings) {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: Body): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T>(path: string, body: Body): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** The raw response of a streaming GET (Server-Sent Events); the caller reads or cancels its body. */
  stream(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    return this.fetch(path, { headers: { ...this.authorization(), accept: 'text/event-stream', ...headers }, signal });
  }

  private async request<T>(method: string, path: string, body?: Body): Promise<T> {
    const headers: Record<string, string> = { ...this.authorization(), accept: 'application/json' };
    let payload: string | undefined;
    if (body && 'json' in body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body) {
      headers['content-type'] = 'text/csv';
      payload = body.csv;
    }
    const res = await this.fetch(path, { method, headers, body: payload });
    const text = await res.text();
    const parsed = parseJson(text);
    if (!res.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof error?.code === 'string' ? error.code : `HTTP ${res.status}`;
      const message = typeof error?.message === 'string' ? error.message : text.slice(0, 200) || res.statusText;
      throw new ApiError(res.status, code, message);
    }
    if (parsed === undefined) throw new CliError(`${method} ${path}: expected a JSON answer, got "${text.slice(0, 80)}"`);
    return parsed as T;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.settings.url}${path}`, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      // undici puts the reason (ECONNREFUSED, ENOTFOUND, ...) in cause; "fetch failed" alone says nothing.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach ${this.settings.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
  }

  private authorization(): Record<string, string> {
    return { authorization: `Bearer ${this.settings.apiKey}` };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
