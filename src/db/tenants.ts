import { randomUUID } from 'node:crypto';
import type { ApiKeyView } from '../contracts/tenants.js';
import type { Db } from './client.js';

/** What the API stores of a new key: never the key itself. */
export interface NewApiKey {
  hash: string;
  prefix: string;
}

const keySelect = { id: true, tenantId: true, prefix: true, createdAt: true, revokedAt: true } as const;

function toKeyView(row: { id: string; tenantId: string; prefix: string; createdAt: Date; revokedAt: Date | null }): ApiKeyView {
  return { ...row, createdAt: row.createdAt.toISOString(), revokedAt: row.revokedAt?.toISOString() ?? null };
}

export function tenantRepository(db: Db) {
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
    /** The tenant a live (not revoked) key belongs to. */
    async findByKeyHash(keyHash: string): Promise<{ tenantId: string } | null> {
      const key = await db.apiKey.findUnique({ where: { keyHash }, select: { tenantId: true, revokedAt: true } });
      return key && !key.revokedAt ? { tenantId: key.tenantId } : null;
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
