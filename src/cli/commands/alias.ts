import type { ApiClient } from '../api-client.js';
import { UsageError } from '../errors.js';
import type { Output } from './output.js';

export interface AliasArgs {
  name: string;
  alias: string;
  version: string;
}

/** PUT /v1/registry/:name/aliases/:alias: points the alias at a version; predictions by name follow it at once. */
export async function moveAlias(client: ApiClient, args: AliasArgs, out: Output): Promise<void> {
  if (!/^[1-9]\d{0,9}$/.test(args.version)) throw new UsageError(`alias: <version> must be a version number (1, 2, ...), got "${args.version}"`);
  const path = `/v1/registry/${encodeURIComponent(args.name)}/aliases/${encodeURIComponent(args.alias)}`;
  const moved = await client.put<{ name: string; alias: string; version: number; modelId: string }>(path, { json: { version: Number(args.version) } });
  out.stdout.write(`${moved.name}@${moved.alias} -> version ${moved.version} (model ${moved.modelId})\n`);
}
