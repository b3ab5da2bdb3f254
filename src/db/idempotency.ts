// Stored first responses for Idempotency-Key retries. A row is claimed (statusCode null) before the request runs,
// completed with the response when it succeeded, and released when it did not, so only successes are replayed.
import type { Db } from './client.js';
import type { Prisma } from '../generated/prisma/client.js';

export interface IdempotencyScope {
  tenantId: string;
  route: string;
  key: string;
}

export type ClaimResult =
  | { kind: 'claimed' }
  | { kind: 'replay'; statusCode: number; response: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in-progress' };

/** A claim whose request never finished (its process died) is taken over after this long. */
const ABANDONED_AFTER_MS = 60_000;

export function idempotencyRepository(db: Db, ttlMs: number) {
  const where = (s: IdempotencyScope) => ({ tenantId_route_key: { tenantId: s.tenantId, route: s.route, key: s.key } });

  return {
    async claim(scope: IdempotencyScope, requestHash: string): Promise<ClaimResult> {
      for (let attempt = 0; attempt < 2; attempt++) {
        const { count } = await db.idempotencyKey.createMany({ data: [{ ...scope, requestHash }], skipDuplicates: true });
        if (count === 1) return { kind: 'claimed' };
        const existing = await db.idempotencyKey.findUnique({ where: where(scope) });
        if (!existing) continue; // released or expired in between: claim again
        const age = Date.now() - existing.createdAt.getTime();
        const stale = age > ttlMs || (existing.statusCode === null && age > ABANDONED_AFTER_MS);
        if (stale) {
          // Only the request that deletes the stale row claims it; a concurrent one sees in-progress next time.
          await db.idempotencyKey.deleteMany({ where: { ...scope, createdAt: existing.createdAt } });
          continue;
        }
        if (existing.requestHash !== requestHash) return { kind: 'mismatch' };
        if (existing.statusCode === null) return { kind: 'in-progress' };
        return { kind: 'replay', statusCode: existing.statusCode, response: existing.response };
      }
      return { kind: 'in-progress' };
    },
    complete: (scope: IdempotencyScope, statusCode: number, response: unknown) =>
      db.idempotencyKey.update({ where: where(scope), data: { statusCode, response: response as Prisma.InputJsonValue } }),
    release: (scope: IdempotencyScope) => db.idempotencyKey.deleteMany({ where: { ...scope, statusCode: null } }),
    /** Forgets keys older than the TTL; returns how many. */
    async purgeExpired(): Promise<number> {
      const { count } = await db.idempotencyKey.deleteMany({ where: { createdAt: { lt: new Date(Date.now() - ttlMs) } } });
      return count;
    },
  };
}
export type IdempotencyRepository = ReturnType<typeof idempotencyRepository>;
