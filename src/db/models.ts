import { randomUUID } from 'node:crypto';
import type { Evaluation } from '../contracts/evaluation.js';
import type { GemmBackendRecord } from '../contracts/gemm-backends.js';
import type { ListModelsQuery } from '../contracts/model-list.js';
import type { ModelSpecBody } from '../contracts/model-spec.js';
import type { StoredPreprocessing } from '../contracts/preprocessing.js';
import type { SerializedModel } from '../engine/index.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from './client.js';
import { pageArgs, pageFrom } from './pages.js';
import { aliasesPointingTo, registerVersion } from './registry.js';
import { enforceQuota, prismaQuery, type QuotaDefaults, weightBytesOf } from './quotas.js';

export interface StoredModel {
  id: string;
  /** Null for an imported model. */
  jobId: string | null;
  datasetId: string | null;
  spec: ModelSpecBody & { inputSize: number };
  preprocessing: StoredPreprocessing;
  features: string[];
  targets: string[];
  classes?: string[];
  metrics: { epochs: number; loss: number | null; valLoss: number | null; accuracy: number | null; valAccuracy: number | null };
  evaluation: Evaluation | null;
  /** What its job's runs multiplied on; null for an imported model. */
  backends: GemmBackendRecord[] | null;
  weights: SerializedModel;
  createdAt: Date;
}

/** A model that did not come from a training job here (POST /v1/models): no job, no dataset, no training metrics. */
export type ImportedModel = Pick<StoredModel, 'spec' | 'preprocessing' | 'features' | 'targets' | 'classes' | 'weights'>;

const NO_METRICS: StoredModel['metrics'] = { epochs: 0, loss: null, valLoss: null, accuracy: null, valAccuracy: null };

/** Everything of a model but its weights: what a list reads. */
const summarySelect = {
  id: true,
  jobId: true,
  spec: true,
  preprocessing: true,
  features: true,
  targets: true,
  classes: true,
  metrics: true,
  evaluation: true,
  backends: true,
  createdAt: true,
  job: { select: { datasetId: true } },
} as const;
export type ModelSummary = Omit<StoredModel, 'weights'>;

function toSummary(row: Prisma.ModelGetPayload<{ select: typeof summarySelect }>): ModelSummary {
  return {
    id: row.id,
    jobId: row.jobId,
    datasetId: row.job?.datasetId ?? null,
    spec: row.spec as StoredModel['spec'],
    preprocessing: row.preprocessing as StoredPreprocessing,
    features: row.features as string[],
    targets: row.targets as string[],
    ...(row.classes ? { classes: row.classes as string[] } : {}),
    metrics: row.metrics as StoredModel['metrics'],
    evaluation: (row.evaluation as Evaluation | null) ?? null,
    backends: (row.backends as GemmBackendRecord[] | null) ?? null,
    createdAt: row.createdAt,
  };
}

export function modelRepository(db: Db) {
  const get = async (tenantId: string, id: string): Promise<StoredModel | null> => {
    const row = await db.model.findFirst({ where: { id, tenantId }, select: { ...summarySelect, weights: true } });
    return row ? { ...toSummary(row), weights: row.weights as unknown as SerializedModel } : null;
  };
  return {
    get,
    /** Whether the tenant has this model: one indexed read of its id (a list's cursor is checked with it). */
    async exists(tenantId: string, id: string): Promise<boolean> {
      return (await db.model.findFirst({ where: { id, tenantId }, select: { id: true } })) !== null;
    },
    /** The tenant's models without their weights, newest first, one page (`cursor`: the first model of the page). */
    async list(tenantId: string, query: ListModelsQuery): Promise<{ items: ModelSummary[]; nextCursor: string | null }> {
      const { name, jobId, datasetId } = query;
      const rows = await db.model.findMany({
        where: {
          tenantId,
          ...(name ? { version: { is: { name } } } : {}),
          ...(jobId ? { jobId } : {}),
          ...(datasetId ? { job: { is: { datasetId } } } : {}),
        },
        select: summarySelect,
        ...pageArgs(query),
      });
      return pageFrom(rows, query.limit, toSummary);
    },
    /** A model's evaluation alone (its weights stay in Postgres). */
    async evaluation(tenantId: string, id: string): Promise<Evaluation | null> {
      const row = await db.model.findFirst({ where: { id, tenantId }, select: { evaluation: true } });
      return (row?.evaluation as Evaluation | null | undefined) ?? null;
    },
    /**
     * Deletes the model unless a registry alias points to it or a queued or running job starts from its weights
     * (initialModelId): then those come back. The job that trained it stays (its modelId becomes null). Null when the
     * tenant has no such model.
     */
    async delete(tenantId: string, id: string): Promise<ModelDeletion | null> {
      return db.$transaction(async (tx) => {
        const found = await tx.$queryRaw<{ id: string }[]>`
          SELECT "id" FROM "Model" WHERE "id" = ${id}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`;
        if (found.length === 0) return null;
        const aliases = await aliasesPointingTo(tx, tenantId, id);
        const jobs = await tx.job.findMany({
          where: { tenantId, initialModelId: id, status: { in: ['queued', 'running'] } },
          select: { id: true },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          take: 20,
        });
        if (aliases.length || jobs.length) return { deleted: false, aliases, activeJobs: jobs.map((j) => j.id) };
        // deleteMany: delete() would read the deleted row back, weights and all.
        await tx.model.deleteMany({ where: { id } });
        return { deleted: true };
      });
    },
    /** With `quotas`, checked under the tenant's quota lock in the transaction that stores the model (QuotaExceededError: nothing stored). */
    async import(tenantId: string, model: ImportedModel & { modelName?: string }, quotas?: QuotaDefaults): Promise<StoredModel> {
      const id = randomUUID();
      const weightBytes = weightBytesOf(model.weights);
      const create = (client: Pick<Db, 'model'>) => client.model.create({
        data: {
          id,
          tenantId,
          spec: model.spec as Prisma.InputJsonValue,
          preprocessing: model.preprocessing as Prisma.InputJsonValue,
          features: model.features,
          targets: model.targets,
          ...(model.classes ? { classes: model.classes } : {}),
          metrics: NO_METRICS,
          weights: model.weights as unknown as Prisma.InputJsonValue,
          weightBytes,
        },
      });
      // With a registry name, the model becomes the name's next version in the transaction that stores it.
      const register = async (tx: Prisma.TransactionClient) => {
        if (model.modelName) await registerVersion(tx, tenantId, model.modelName, id);
      };
      if (quotas) {
        await db.$transaction(async (tx) => {
          await enforceQuota(prismaQuery(tx), tenantId, quotas, { what: 'this model', models: 1, storageBytes: weightBytes });
          await create(tx);
          await register(tx);
        });
      } else if (model.modelName) {
        await db.$transaction(async (tx) => {
          await create(tx);
          await register(tx);
        });
      } else {
        await create(db);
      }
      return (await get(tenantId, id))!;
    },
  };
}
export type ModelRepository = ReturnType<typeof modelRepository>;
/** What DELETE /v1/models/:id did: deleted, or not, for the aliases pointing to it and the jobs starting from it. */
export type ModelDeletion = { deleted: true } | { deleted: false; aliases: string[]; activeJobs: string[] };
