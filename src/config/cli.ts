// The command-line client's environment. Read here, like the service's, so src/config stays the only reader of
// process.env; flags given on the command line win over these (src/cli/settings.ts).
import { z } from 'zod';
import { ConfigError } from './index.js';

/** An empty variable counts as unset, so `BACKPROP_API_KEY= backprop ...` falls back to the flag. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const cliEnvSchema = z.object({
  BACKPROP_URL: optional(z.url({ protocol: /^https?$/, error: 'BACKPROP_URL must be an http(s) URL' })),
  BACKPROP_API_KEY: optional(z.string()),
});

export interface CliEnv {
  url?: string;
  apiKey?: string;
}

export function loadCliEnv(env: Record<string, string | undefined> = process.env): Readonly<CliEnv> {
  const parsed = cliEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message).join('; '));
  const { BACKPROP_URL: url, BACKPROP_API_KEY: apiKey } = parsed.data;
  return Object.freeze({ ...(url ? { url } : {}), ...(apiKey ? { apiKey } : {}) });
}
