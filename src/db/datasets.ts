import { randomUUID } from 'node:crypto';
import type { ColumnStats, DatasetKind } from '../contracts/datasets.js';
import type { StoredColumn } from '../data/column-reader.js';
import type { EncodedDataset } from '../data/encode-dataset.js';
import { packFloat32, unpackFloat32 } from '../data/float-pack.js';
import { copyByteaColumns } from './bytea-copy.js';
import { poolOf, type Db } from './client.js';
import { insertDataset } from './dataset-insert.js';
import { pageArgs, pageFrom, type PageQuery } from './pages.js';
import { enforceQuota, pgQuery, type QuotaDefaults } from './quotas.js';

/** Everything but the packed arrays, which only the producer needs. */
const summary = {
  id: true,
  name: true,
  rowCount: true,
  features: true,
  targets: true,
  classes: true,
  sequenceLength: true,
  targetSteps: true,
  createdAt: true,
} as const;

export interface DatasetSummary {
  id: string;
  name: string;
  kind: DatasetKind;
  /** Rows, or sequences. */
  rows: number;
  /** Sequence datasets: steps per sequence. */
  sequenceLength?: number;
  /** Sequence datasets: one target per step (outputs are rows x sequenceLength x target width). */
  perStepTargets?: boolean;
  /** Per step for sequence datasets. */
  features: string[];
  targets: string[];
  classes?: string[];
  createdAt: Date;
}

/**
 * The columns of a dataset as stored, or for datasets stored before columns were (and sequence datasets) what they
 * were: numeric features and targets, or a class target, with nothing missing.
 */
function columnsOf(row: SummaryRow & { columns: unknown; stats: unknown }): StoredColumn[] {
  if (row.columns) return row.columns as StoredColumn[];
  const stats = row.stats as Record<string, ColumnStats>;
  const describe = (name: string, role: 'feature' | 'target'): StoredColumn => {
    const s = stats[name];
    if (s?.kind === 'categorical') {
      const entries = Object.entries(s.counts);
      return { name, type: 'categorical', role, missing: 0, distinct: entries.length, labels: entries.map((e) => e[0]), counts: entries.map((e) => e[1]), warnings: [] };
    }
    const summary = s ? { min: s.min, max: s.max, mean: s.mean, std: s.std } : undefined;
    return { name, type: 'numeric', role, missing: 0, distinct: -1, ...(summary ? { stats: summary } : {}), warnings: [] };
  };
  return [...(row.features as string[]).map((f) => describe(f, 'feature')), ...(row.targets as string[]).map((t) => describe(t, 'target'))];
}

type SummaryRow = {
  id: string;
  name: string;
  rowCount: number;
  features: unknown;
  targets: unknown;
  classes: unknown;
  sequenceLength: number | null;
  targetSteps: number | null;
  createdAt: Date;
};

function toSummary(row: SummaryRow): DatasetSummary {
  const sequence =
    row.sequenceLength === null
      ? { kind: 'tabular' as const }
      : { kind: 'sequence' as const, sequenceLength: row.sequenceLength, perStepTargets: (row.targetSteps ?? 1) > 1 };
  return {
    id: row.id,
    name: row.name,
    ...sequence,
    rows: row.rowCount,
    features: row.features as string[],
    targets: row.targets as string[],
    ...(row.classes ? { classes: row.classes as string[] } : {}),
    createdAt: row.createdAt,
  };
}

export function datasetRepository(db: Db) {
  return {
    /**
     * One COPY of one row (src/db/dataset-insert.ts): the packed arrays go to Postgres as their bytes, stored whole or
     * not at all. With `quotas`, in a transaction that first checks the tenant's quotas under its quota lock
     * (QuotaExceededError: nothing stored); the dataset's size is its arrays' bytes.
     */
    async create(tenantId: string, name: string, data: EncodedDataset, quotas?: QuotaDefaults): Promise<DatasetSummary> {
      const row = {
        id: randomUUID(),
        tenantId,
        name,
        rowCount: data.rows,
        features: data.features,
        targets: data.targets,
        classes: data.classes ?? null,
        stats: data.stats,
        sequenceLength: data.sequenceLength ?? null,
        targetSteps: data.sequenceLength === undefined ? null : data.perStepTargets ? data.sequenceLength : 1,
        columns: data.columns ?? null,
        skippedRows: data.skippedRows ?? 0,
        inputs: packFloat32(data.inputs),
        outputs: packFloat32(data.outputs),
        createdAt: new Date(),
      };
      const demand = { what: 'this dataset', datasets: 1, storageBytes: row.inputs.byteLength + row.outputs.byteLength };
      await insertDataset(poolOf(db), row, quotas && ((client) => enforceQuota(pgQuery(client), tenantId, quotas, demand)));
      return toSummary(row);
    },
    /** The summary with every column's description, and the rows the upload skipped. */
    async get(tenantId: string, id: string) {
      const row = await db.dataset.findFirst({ where: { id, tenantId }, select: { ...summary, stats: true, columns: true, skippedRows: true } });
      if (!row) return null;
      return { ...toSummary(row), stats: row.stats as Record<string, ColumnStats>, columns: columnsOf(row), skippedRows: row.skippedRows };
    },
    /** Whether the tenant has this dataset: one indexed read of its id (a list's cursor is checked with it). */
    async exists(tenantId: string, id: string): Promise<boolean> {
      return (await db.dataset.findFirst({ where: { id, tenantId }, select: { id: true } })) !== null;
    },
    /** Newest first, one page (`cursor`: the first dataset of the page, as nextCursor handed it out). */
    async list(tenantId: string, query: PageQuery & { name?: string }) {
      const rows = await db.dataset.findMany({ where: { tenantId, ...(query.name ? { name: query.name } : {}) }, select: summary, ...pageArgs(query) });
      return pageFrom(rows, query.limit, toSummary);
    },
    /**
     * Deletes the dataset unless queued or running jobs train on it (then their ids, oldest first, at most 20).
     * Finished jobs keep their rows with datasetId null (ON DELETE SET NULL) and their models stay; `models` lists
     * those models, whose view loses its datasetId. The row is locked first: a job being created on the dataset (its
     * foreign key check share-locks the row) either commits before and is counted, or finds it gone. Null when the
     * tenant has no such dataset.
     */
    async delete(tenantId: string, id: string): Promise<DatasetDeletion | null> {
      return db.$transaction(async (tx) => {
        const found = await tx.$queryRaw<{ id: string }[]>`
          SELECT "id" FROM "Dataset" WHERE "id" = ${id}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`;
        if (found.length === 0) return null;
        const active = await tx.job.findMany({
          where: { datasetId: id, status: { in: ['queued', 'running'] } },
          select: { id: true },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          take: 20,
        });
        if (active.length) return { deleted: false, activeJobs: active.map((j) => j.id), activeSweeps: [] };
        // A sweep between two rungs has no active job, yet will make more on this dataset.
        const sweeps = await tx.sweep.findMany({ where: { datasetId: id, status: { in: ['queued', 'running'] } }, select: { id: true }, take: 20 });
        if (sweeps.length) return { deleted: false, activeJobs: [], activeSweeps: sweeps.map((s) => s.id) };
        const models = await tx.model.findMany({ where: { job: { datasetId: id } }, select: { id: true } });
        // deleteMany: delete() would read the deleted row back, packed arrays and all.
        await tx.dataset.deleteMany({ where: { id } });
        return { deleted: true, models: models.map((m) => m.id) };
      });
    },
    /**
     * The summary and the packed training arrays (the job's stored preprocessing applies to them). The arrays come
     * by binary COPY (src/db/bytea-copy.ts) into shared memory, which training threads read without a copy each.
     * The two reads go out at once, one round trip of waiting rather than two; a dataset never changes once stored.
     */
    async getTrainingData(tenantId: string, id: string) {
      const [row, packed] = await Promise.all([
        db.dataset.findFirst({ where: { id, tenantId }, select: { ...summary, stats: true, columns: true } }),
        copyByteaColumns(poolOf(db), 'Dataset', ['inputs', 'outputs'], { id, tenantId }),
      ]);
      if (!row || !packed) return null;
      const [inputs, outputs] = packed.map((bytes) => unpackFloat32(bytes, true));
      const features = new Set(row.features as string[]);
      const columns = columnsOf(row);
      return {
        ...toSummary(row),
        columns: columns.filter((c) => c.role === 'feature' && features.has(c.name)),
        ignored: columns.filter((c) => c.role === 'ignored').map((c) => c.name),
        inputs,
        outputs,
      };
    },
  };
}
export type DatasetRepository = ReturnType<typeof datasetRepository>;
/** What DELETE /v1/datasets/:id did: deleted (and the models whose view changed), or not for the jobs using it. */
export type DatasetDeletion = { deleted: true; models: string[] } | { deleted: false; activeJobs: string[]; activeSweeps: string[] };
/** A dataset as a run (or an evaluation) reads it: summary, feature columns and the stored arrays. */
export type TrainingData = NonNullable<Awaited<ReturnType<DatasetRepository['getTrainingData']>>>;
/** What a run's set-up reads a dataset through: the repository itself, or the worker's cache in front of it. */
export type TrainingDataReader = Pick<DatasetRepository, 'getTrainingData'>;
