// Where the client talks to and as whom: flags first, then BACKPROP_URL / BACKPROP_API_KEY (src/config/cli.ts).
import type { CliEnv } from '../config/cli.js';
import { UsageError } from './errors.js';

export const DEFAULT_URL = 'http://localhost:3000';

export interface Settings {
  /** Base URL of the API, without a trailing slash. */
  url: string;
  apiKey: string;
}

export function resolveSettings(flags: { url?: string; key?: string }, env: Readonly<CliEnv>): Settings {
  const url = flags.url ?? env.url ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/\s]+/.test(url) || !URL.canParse(url)) throw new UsageError(`--url: expected an http(s) URL, got "${url}"`);
  const apiKey = flags.key ?? env.apiKey;
  if (!apiKey) throw new UsageError('no API key: pass --key <key> or set BACKPROP_API_KEY');
  return { url: url.replace(/\/+$/, ''), apiKey };
}
