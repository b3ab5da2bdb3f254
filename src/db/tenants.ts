import { randomUUID } from 'node:crypto';
import type { Db } from './client.js';

export function tenantRepository(db: Db) {
  return {
    create: (name: string, apiKeyHash: string) =>
      db.tenant.create({ data: { id: randomUUID(), name, apiKeyHash }, select: { id: true, name: true } }),
    findByKeyHash: (apiKeyHash: string) =>
      db.tenant.findUnique({ where: { apiKeyHash }, select: { id: true, name: true } }),
  };
}
export type TenantRepository = ReturnType<typeof tenantRepository>;
