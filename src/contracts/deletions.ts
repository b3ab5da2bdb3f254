// What a delete tells every API and worker process (Redis channel `<QUEUE_PREFIX>:deleted`, src/queue/deletion-channel.ts):
// which cached things are gone or changed, so that each process answers at once as if they had never existed.
import { z } from 'zod';

export const deletionSchema = z.object({
  tenantId: z.uuid(),
  /** The whole tenant is gone: every cached thing of it, and its API keys. */
  tenant: z.boolean(),
  /** Datasets gone (the workers' dataset caches). */
  datasets: z.array(z.uuid()),
  /** Models gone, or whose view changed (datasetId or jobId now null): the APIs' model caches. */
  models: z.array(z.uuid()),
  /** An API key of the tenant was revoked: the APIs' key lookups, and the key's open event streams. */
  keysRevoked: z.boolean().optional(),
});
export type Deletion = z.infer<typeof deletionSchema>;

/** A message from Redis, or null when it is not one. */
export function parseDeletion(text: string): Deletion | null {
  try {
    const parsed = deletionSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
