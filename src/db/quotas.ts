// A tenant's quotas and its usage against them. Usage is computed from the tables every time (no counter to drift):
// datasets' stored arrays (octet_length of the bytea columns, read from their TOAST headers without loading them),
// models' weightBytes, and what queued or running jobs reserve for the models they will make. A delete lowers it at
// once, a failed or cancelled job frees its reservation, and a job that succeeds swaps its reservation for its model
// in the transaction that stores the model (no larger: the reservation is an upper bound).
//
// A write that adds to usage checks and inserts in one transaction that first takes the tenant's quota lock (an
// advisory lock, like job admission's in jobs.ts), so two uploads racing each other cannot both pass the last bytes.
import type pg from 'pg';
import type { QuotaName, TenantQuotas, TenantQuotasBody, Usage } from '../contracts/quotas.js';
import type { SerializedModel } from '../engine/index.js';
import type { Db } from './client.js';

/** The configured quotas (QUOTA_STORAGE_BYTES, QUOTA_DATASETS, QUOTA_MODELS), for tenants without their own. */
export type QuotaDefaults = Record<QuotaName, number>;

/** What one write adds to its tenant's usage, and how the refusal names it ("this dataset"). */
export interface QuotaDemand {
  what: string;
  storageBytes: number;
  datasets?: number;
  models?: number;
}

export class QuotaExceededError extends Error {
  override name = 'QuotaExceededError';
  constructor(
    readonly quota: QuotaName,
    readonly usage: number,
    readonly limit: number,
    readonly requested: number,
    message: string,
  ) {
    super(message);
  }

  get details() {
    return { quota: this.quota, usage: this.usage, limit: this.limit, requested: this.requested };
  }
}

/** One statement with the tenant's id as $1, in the caller's transaction: Prisma's or a pg client's. */
export type TenantQuery = (sql: string, tenantId: string) => Promise<Record<string, unknown>[]>;
export const prismaQuery =
  (tx: Pick<Db, '$queryRawUnsafe'>): TenantQuery =>
  (sql, tenantId) =>
    tx.$queryRawUnsafe<Record<string, unknown>[]>(sql, tenantId);
export const pgQuery =
  (client: pg.ClientBase): TenantQuery =>
  async (sql, tenantId) =>
    (await client.query(sql, [tenantId])).rows;

const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('tenant-quota'), hashtext($1))::text AS locked`;

// float8: exact for every byte count below 2^53, and a plain number from both Prisma and pg (bigint and numeric are not).
const USAGE_SQL = `
  SELECT
    t."quotaStorageBytes"::float8 AS "ownStorageBytes", t."quotaDatasets" AS "ownDatasets", t."quotaModels" AS "ownModels",
    d.count AS "datasets", d.bytes AS "datasetBytes", m.count AS "models", m.bytes AS "modelBytes", j.count AS "activeJobs", j.bytes AS "reservedBytes"
  FROM "Tenant" t,
    LATERAL (SELECT count(*)::float8 AS count, COALESCE(sum(octet_length("inputs")::float8 + octet_length("outputs")), 0) AS bytes
             FROM "Dataset" WHERE "tenantId" = t."id") d,
    LATERAL (SELECT count(*)::float8 AS count, COALESCE(sum("weightBytes")::float8, 0) AS bytes FROM "Model" WHERE "tenantId" = t."id") m,
    LATERAL (SELECT count(*)::float8 AS count, COALESCE(sum("modelBytes")::float8, 0) AS bytes
             FROM "Job" WHERE "tenantId" = t."id" AND "status" IN ('queued', 'running')) j
  WHERE t."id" = $1::uuid`;

interface UsageRow {
  ownStorageBytes: number | null;
  ownDatasets: number | null;
  ownModels: number | null;
  datasets: number;
  datasetBytes: number;
  models: number;
  modelBytes: number;
  activeJobs: number;
  reservedBytes: number;
}

const own: Record<QuotaName, 'ownStorageBytes' | 'ownDatasets' | 'ownModels'> = {
  storageBytes: 'ownStorageBytes',
  datasets: 'ownDatasets',
  models: 'ownModels',
};

function limitsOf(row: Pick<UsageRow, 'ownStorageBytes' | 'ownDatasets' | 'ownModels'>, defaults: QuotaDefaults): TenantQuotas {
  const limit = (name: QuotaName) => {
    const value = row[own[name]];
    return value === null ? { limit: defaults[name], custom: false } : { limit: Number(value), custom: true };
  };
  return { storageBytes: limit('storageBytes'), datasets: limit('datasets'), models: limit('models') };
}

function usageOf(row: UsageRow, defaults: QuotaDefaults): Usage {
  const limits = limitsOf(row, defaults);
  return {
    storageBytes: {
      ...limits.storageBytes,
      used: row.datasetBytes + row.modelBytes + row.reservedBytes,
      datasets: row.datasetBytes,
      models: row.modelBytes,
      activeJobs: row.reservedBytes,
    },
    datasets: { ...limits.datasets, used: row.datasets },
    models: { ...limits.models, used: row.models + row.activeJobs, stored: row.models, activeJobs: row.activeJobs },
  };
}

async function readUsage(query: TenantQuery, tenantId: string, defaults: QuotaDefaults): Promise<Usage | null> {
  const [row] = (await query(USAGE_SQL, tenantId)) as unknown as UsageRow[];
  return row ? usageOf(row, defaults) : null;
}

/** The first quota the demand would take past its limit, as the error to refuse it with; null when it fits. */
function refusal(usage: Usage, demand: QuotaDemand): QuotaExceededError | null {
  for (const name of ['datasets', 'models'] as const) {
    const wanted = demand[name] ?? 0;
    const { used, limit } = usage[name];
    if (wanted > 0 && used + wanted > limit) {
      const counted = name === 'models' ? `${usage.models.stored} stored and ${usage.models.activeJobs} to come from queued or running jobs` : 'stored';
      return new QuotaExceededError(name, used, limit, wanted, `${name} quota exceeded: the tenant has ${used} ${name} (${counted}) of the ${limit} it may have`);
    }
  }
  const { used, limit } = usage.storageBytes;
  if (used + demand.storageBytes > limit) {
    return new QuotaExceededError(
      'storageBytes',
      used,
      limit,
      demand.storageBytes,
      `storageBytes quota exceeded: the tenant stores ${used} of the ${limit} bytes it may store, and ${demand.what} needs ${demand.storageBytes} more`,
    );
  }
  return null;
}

/**
 * Inside the transaction that will store the demand: takes the tenant's quota lock (held until that transaction
 * ends, so the next writer sees this one's rows), then refuses with QuotaExceededError when the demand does not fit.
 */
export async function enforceQuota(query: TenantQuery, tenantId: string, defaults: QuotaDefaults, demand: QuotaDemand): Promise<void> {
  await query(LOCK_SQL, tenantId);
  const usage = await readUsage(query, tenantId, defaults);
  const refused = usage && refusal(usage, demand);
  if (refused) throw refused;
}

/** Bytes of a serialized model's weight arrays: the decoded size of their padded base64. */
export function weightBytesOf(model: SerializedModel): number {
  let bytes = 0;
  for (const layer of model.weights) {
    for (const text of Object.values(layer) as string[]) {
      const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
      bytes += (text.length / 4) * 3 - padding;
    }
  }
  return bytes;
}

export function quotaRepository(db: Db) {
  const ownSelect = { quotaStorageBytes: true, quotaDatasets: true, quotaModels: true } as const;
  const toOwn = (row: { quotaStorageBytes: bigint | null; quotaDatasets: number | null; quotaModels: number | null }) => ({
    ownStorageBytes: row.quotaStorageBytes === null ? null : Number(row.quotaStorageBytes),
    ownDatasets: row.quotaDatasets,
    ownModels: row.quotaModels,
  });
  return {
    /** Usage against the tenant's quotas; null when there is no such tenant. */
    usage: (tenantId: string, defaults: QuotaDefaults) => readUsage(prismaQuery(db), tenantId, defaults),
    /**
     * Refuses a demand that does not fit now, without the lock: for a check before the work that precedes the
     * write (reading a CSV body); the write checks again under the lock.
     */
    async precheck(tenantId: string, defaults: QuotaDefaults, demand: QuotaDemand): Promise<void> {
      const usage = await readUsage(prismaQuery(db), tenantId, defaults);
      const refused = usage && refusal(usage, demand);
      if (refused) throw refused;
    },
    /** The tenant's quotas, its own or the defaults; null when there is no such tenant. */
    async limits(tenantId: string, defaults: QuotaDefaults): Promise<TenantQuotas | null> {
      const row = await db.tenant.findUnique({ where: { id: tenantId }, select: ownSelect });
      return row && limitsOf(toOwn(row), defaults);
    },
    /** Sets the given quotas (null: back to the default; absent: unchanged); null when there is no such tenant. */
    async setLimits(tenantId: string, change: TenantQuotasBody, defaults: QuotaDefaults): Promise<TenantQuotas | null> {
      const storage = change.storageBytes === undefined ? undefined : change.storageBytes === null ? null : BigInt(change.storageBytes);
      const [row] = await db.tenant.updateManyAndReturn({
        where: { id: tenantId },
        data: { quotaStorageBytes: storage, quotaDatasets: change.datasets, quotaModels: change.models },
        select: ownSelect,
      });
      return row ? limitsOf(toOwn(row), defaults) : null;
    },
  };
}
export type QuotaRepository = ReturnType<typeof quotaRepository>;
