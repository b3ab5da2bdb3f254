import { randomUUID } from 'node:crypto';
import type { ApiKeyView, TenantRateLimitsBody } from '../contracts/tenants.js';
import type { Db } from './client.js';

/** What the API stores of a new key: never the key itself. */
export interface NewApiKey {
  hash: string;
  prefix: string;
}

/** A tenant's own rate-limit budgets per window; null where it uses the configured default. */
export interface TenantBudgets {
  requests: number | null;
  predictions: number | null;
}

/** Who a live API key belongs to, and what the rate limit allows them. */
export interface KeyOwner {
  tenantId: string;
  budgets: TenantBudgets;
}

const budgetSelect = { rateLimitMax: true, predictRateLimitMax: true } as const;
const toBudgets = (row: { rateLimitMax: number | null; predictRateLimitMax: number | null }): TenantBudgets => ({
  requests: row.rateLimitMax,
  predictions: row.predictRateLimitMax,
});

const keySelect = { id: true, tenantId: true, prefix: true, createdAt: true, revokedAt: true } as const;

function toKeyView(row: { id: string; tenantId: string; prefix: string; createdAt: Date; revokedAt: Date | null }): ApiKeyView {
  return { ...row, createdAt: row.createdAt.toISOString(), revokedAt: row.revokedAt?.toISOString() ?? null };
}

export function tenantRepository(db: Db) {
  /** The tenant's own budgets; null when there is no such tenant. */
  const budgets = async (id: string): Promise<TenantBudgets | null> => {
    const row = await db.tenant.findUnique({ where: { id }, select: budgetSelect });
    return row && toBudgets(row);
  };
  return {
    /** The tenant and its first API key, in one transaction. */
    async create(name: string, key: NewApiKey): Promise<{ id: string; name: string; keyId: string }> {
      const id = randomUUID();
      const keyId = randomUUID();
      const tenant = await db.tenant.create({
        data: { id, name, apiKeys: { create: { id: keyId, keyHash: key.hash, prefix: key.prefix } } },
        select: { id: true, name: true },
      });
      return { ...tenant, keyId };
    },
    exists: async (id: string) => (await db.tenant.count({ where: { id } })) > 0,
    /**
     * Deletes the tenant and everything it has: keys, datasets, jobs with their metrics, checkpoints and webhook
     * deliveries, models (ON DELETE CASCADE). Returns the ids of its jobs that were queued or running, which the
     * caller takes off the queue and stops; null when there is no such tenant. The tenant's row is locked first, so a
     * job created at the same moment (its foreign key check share-locks the row) is either counted or refused.
     */
    async delete(id: string): Promise<{ activeJobs: string[] } | null> {
      return db.$transaction(async (tx) => {
        const found = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Tenant" WHERE "id" = ${id}::uuid FOR UPDATE`;
        if (found.length === 0) return null;
        const active = await tx.job.findMany({ where: { tenantId: id, status: { in: ['queued', 'running'] } }, select: { id: true } });
        await tx.tenant.deleteMany({ where: { id } });
        return { activeJobs: active.map((j) => j.id) };
      });
    },
    /** The tenant a live (not revoked) key belongs to, with its rate-limit budgets: one query. */
    async findByKeyHash(keyHash: string): Promise<KeyOwner | null> {
      const key = await db.apiKey.findUnique({ where: { keyHash }, select: { tenantId: true, revokedAt: true, tenant: { select: budgetSelect } } });
      return key && !key.revokedAt ? { tenantId: key.tenantId, budgets: toBudgets(key.tenant) } : null;
    },
    budgets,
    /** Sets the given budgets (null: back to the default; absent: unchanged); null when there is no such tenant. */
    async setBudgets(id: string, change: TenantRateLimitsBody): Promise<TenantBudgets | null> {
      const { count } = await db.tenant.updateMany({ where: { id }, data: { rateLimitMax: change.requests, predictRateLimitMax: change.predictions } });
      return count ? budgets(id) : null;
    },
    async listKeys(tenantId: string): Promise<ApiKeyView[]> {
      const rows = await db.apiKey.findMany({ where: { tenantId }, select: keySelect, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      return rows.map(toKeyView);
    },
    async createKey(tenantId: string, key: NewApiKey): Promise<ApiKeyView> {
      const row = await db.apiKey.create({ data: { id: randomUUID(), tenantId, keyHash: key.hash, prefix: key.prefix }, select: keySelect });
      return toKeyView(row);
    },
    /** Revokes the key (once: the first revocation time is kept); null when the tenant has no such key. */
    async revokeKey(tenantId: string, keyId: string): Promise<ApiKeyView | null> {
      await db.apiKey.updateMany({ where: { id: keyId, tenantId, revokedAt: null }, data: { revokedAt: new Date() } });
      const row = await db.apiKey.findFirst({ where: { id: keyId, tenantId }, select: keySelect });
      return row ? toKeyView(row) : null;
    },
  };
}
export type TenantRepository = ReturnType<typeof tenantRepository>;
