import { randomUUID } from 'node:crypto';
import type { GemmBackendRecord } from '../contracts/gemm-backends.js';
import { finishedStatuses, type JobError, type JobSettings, type JobStatus, type JobView } from '../contracts/jobs.js';
import type { ModelSpecBody } from '../contracts/model-spec.js';
import { DEFAULT_PREPROCESSING, type StoredPreprocessing } from '../contracts/preprocessing.js';
import type { Training } from '../contracts/training.js';
import type { Evaluation } from '../contracts/evaluation.js';
import type { EpochReport, ModelSpec, SerializedModel, TrainingCheckpoint } from '../engine/index.js';
import { isForeignKeyViolation, type Db } from './client.js';
import { pageArgs, pageFrom, type PageQuery } from './pages.js';
import { registerVersion } from './registry.js';
import { enforceQuota, prismaQuery, type QuotaDefaults, weightBytesOf } from './quotas.js';
import type { Job, Prisma } from '../generated/prisma/client.js';

const ACTIVE: JobStatus[] = ['queued', 'running'];

const viewSelect = {
  id: true,
  datasetId: true,
  status: true,
  epoch: true,
  epochs: true,
  loss: true,
  valLoss: true,
  accuracy: true,
  valAccuracy: true,
  error: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  model: true,
  training: true,
  preprocessing: true,
  initialModelId: true,
  modelName: true,
  sweepId: true,
  backends: true,
  result: { select: { id: true } },
} as const;

type ViewRow = Prisma.JobGetPayload<{ select: typeof viewSelect }>;
/** The view's own columns, for the statements that return rows without relations (UPDATE ... RETURNING). */
const { result: _result, ...scalarViewSelect } = viewSelect;

/**
 * Job error codes are ERR_* like the API's. Jobs that failed before that was so are stored with the engine's bare
 * codes (TRAINING_DIVERGED, INVALID_ARGUMENT): read under their ERR_ name, so clients see one family.
 */
function publicError(stored: JobError | null): JobError | null {
  return stored && !stored.code.startsWith('ERR_') ? { ...stored, code: `ERR_${stored.code}` } : stored;
}

/** The settings as stored, in the shape POST /v1/jobs takes: the spec without what the dataset decided. */
function settingsOf(row: Pick<ViewRow, 'model' | 'training' | 'preprocessing' | 'initialModelId' | 'modelName'>): JobSettings {
  const { layers, loss } = row.model as unknown as ModelSpecBody;
  // Stored preprocessing is the options until the first run fits them, then the fitted form, which keeps them.
  const stored = row.preprocessing as StoredPreprocessing;
  const preprocessing = {
    standardize: stored.standardize,
    impute: stored.impute ?? DEFAULT_PREPROCESSING.impute,
    maxCategories: stored.maxCategories ?? DEFAULT_PREPROCESSING.maxCategories,
    standardizeTargets: stored.standardizeTargets ?? DEFAULT_PREPROCESSING.standardizeTargets,
  };
  return {
    model: { layers, loss },
    training: row.training as unknown as JobSettings['training'],
    preprocessing,
    ...(row.initialModelId ? { initialModelId: row.initialModelId } : {}),
    ...(row.modelName ? { modelName: row.modelName } : {}),
  };
}

function toView(row: ViewRow): JobView {
  const { result, error, createdAt, startedAt, finishedAt, model, training, preprocessing, initialModelId, modelName, backends, ...rest } = row;
  return {
    ...rest,
    error: publicError(error as JobError | null),
    backends: backends as GemmBackendRecord[],
    modelId: result?.id ?? null,
    settings: settingsOf({ model, training, preprocessing, initialModelId, modelName }),
    createdAt: createdAt.toISOString(),
    startedAt: startedAt?.toISOString() ?? null,
    finishedAt: finishedAt?.toISOString() ?? null,
  };
}

async function viewOf(db: Db, tenantId: string, id: string): Promise<JobView | null> {
  const row = await db.job.findFirst({ where: { id, tenantId }, select: viewSelect });
  return row ? toView(row) : null;
}

/** Whether the tenant has this job: one indexed read of its id, for checks that need nothing else. */
async function jobExists(db: Db, tenantId: string, id: string): Promise<boolean> {
  return (await db.job.findFirst({ where: { id, tenantId }, select: { id: true } })) !== null;
}

export interface NewJob {
  tenantId: string;
  datasetId: string;
  model: ModelSpecBody & { inputSize: number };
  training: Training & { seed: number };
  preprocessing: StoredPreprocessing;
  webhookUrl?: string;
  initialModelId?: string;
  /** Registry name: the job's model becomes its next version when the job succeeds. */
  modelName?: string;
  /** The most bytes its model's weights can take: reserved against the storage quota while the job is active. */
  modelBytes?: number;
}

export function jobRepository(db: Db) {
  return {
    /**
     * With `quotas`, checked under the tenant's quota lock in the transaction that stores the job: the job counts as
     * a model to come and reserves its model's bytes (QuotaExceededError: nothing stored).
     */
    async create(job: NewJob, quotas?: QuotaDefaults): Promise<string> {
      const id = randomUUID();
      const data = { id, ...job, epochs: job.training.epochs };
      // The dataset's foreign key share-locks its row until the job is in, and a warm start share-locks its model the
      // same way: a DELETE of either (which locks the row for update) waits and then counts this job, or has already
      // deleted it and the job is refused (ReferenceGoneError).
      const insert = async (tx: Prisma.TransactionClient) => {
        if (job.initialModelId) {
          const held = await tx.$queryRaw<unknown[]>`SELECT 1 FROM "Model" WHERE "id" = ${job.initialModelId}::uuid FOR KEY SHARE`;
          if (held.length === 0) throw new ReferenceGoneError('initialModelId');
        }
        await tx.job.create({ data }).catch((err: unknown) => {
          throw isForeignKeyViolation(err) ? new ReferenceGoneError('datasetId') : err;
        });
      };
      if (!quotas) {
        await db.$transaction(insert);
        return id;
      }
      const demand = { what: "this job's model", models: 1, storageBytes: job.modelBytes ?? 0 };
      await db.$transaction(async (tx) => {
        await enforceQuota(prismaQuery(tx), job.tenantId, quotas, demand);
        await insert(tx);
      });
      return id;
    },
    get: (tenantId: string, id: string) => viewOf(db, tenantId, id),
    exists: (tenantId: string, id: string) => jobExists(db, tenantId, id),
    /** Weights a warm-started job begins from (the model was checked to be the job's tenant's when it was created). */
    /** The job's preprocessing as its first run fitted it, and its model spec with the encoded input width. */
    async recordPreprocessing(id: string, spec: ModelSpec, preprocessing: StoredPreprocessing): Promise<void> {
      await db.job.update({ where: { id }, data: { model: spec as unknown as Prisma.InputJsonValue, preprocessing: preprocessing as Prisma.InputJsonValue } });
    },
    async initialWeights(modelId: string): Promise<SerializedModel | null> {
      const row = await db.model.findUnique({ where: { id: modelId }, select: { weights: true } });
      return row ? (row.weights as unknown as SerializedModel) : null;
    },
    /**
     * A finished job as its end is announced (internal lookup by id: the worker acts on behalf of the owner): its
     * view, owner and webhook URL in one read. Null while the job is active, or when it does not exist.
     */
    async finished(id: string): Promise<{ view: JobView; tenantId: string; webhookUrl: string | null } | null> {
      const row = await db.job.findFirst({
        where: { id, status: { in: [...finishedStatuses] } },
        select: { ...viewSelect, tenantId: true, webhookUrl: true },
      });
      if (!row) return null;
      const { tenantId, webhookUrl, ...view } = row;
      return { view: toView(view), tenantId, webhookUrl };
    },
    async list(tenantId: string, query: PageQuery & { status?: JobStatus; sweepId?: string }) {
      const where = { tenantId, ...(query.status ? { status: query.status } : {}), ...(query.sweepId ? { sweepId: query.sweepId } : {}) };
      const rows = await db.job.findMany({ where, select: viewSelect, ...pageArgs(query) });
      return pageFrom(rows, query.limit, toView);
    },
    async metrics(tenantId: string, id: string) {
      if (!(await jobExists(db, tenantId, id))) return null;
      return db.jobMetric.findMany({
        where: { jobId: id },
        orderBy: { epoch: 'asc' },
        select: { epoch: true, loss: true, valLoss: true, accuracy: true, valAccuracy: true, learningRate: true, ms: true },
      });
    },
    /** Status and last stored epoch of these jobs, in one query, for jobs already checked to be their caller's (event streams). */
    progress: (ids: string[]) => db.job.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, epoch: true } }),
    /** Metric rows after `epoch`, in order, for a job already checked to be the caller's (event streams). */
    metricsSince: (id: string, epoch: number) =>
      db.jobMetric.findMany({
        where: { jobId: id, epoch: { gt: epoch } },
        orderBy: { epoch: 'asc' },
        select: { epoch: true, loss: true, valLoss: true, accuracy: true, valAccuracy: true, learningRate: true, ms: true },
      }),
    /**
     * Cancels the tenant's job if it is active, and returns its view afterwards: status cancelled, or the status it had
     * already ended with (finished jobs stay as they are). Null when the job does not exist for this tenant.
     */
    async cancel(tenantId: string, id: string): Promise<JobView | null> {
      const [row] = await db.job.updateManyAndReturn({
        where: { id, tenantId, status: { in: ACTIVE } },
        data: { status: 'cancelled', finishedAt: new Date() },
        select: scalarViewSelect,
      });
      // An active job has no model yet.
      return row ? toView({ ...row, result: null }) : viewOf(db, tenantId, id);
    },
    /**
     * Deletes a finished job with its metrics, checkpoint and webhook deliveries (ON DELETE CASCADE). Its model stays,
     * with jobId null (ON DELETE SET NULL) like an imported model; `modelId` is that model, whose view changed. An active
     * job is not deleted: its status comes back. Null when the tenant has no such job.
     */
    async delete(tenantId: string, id: string): Promise<JobDeletion | null> {
      return db.$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ status: JobStatus; sweepId: string | null }[]>`
          SELECT "status", "sweepId"::text FROM "Job" WHERE "id" = ${id}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`;
        if (!row) return null;
        if (!finishedStatuses.includes(row.status)) return { deleted: false, status: row.status };
        // A trial of a sweep still running stays: the sweep's scheduler reads its jobs to know which trials exist.
        const sweep = row.sweepId ? await tx.sweep.findUnique({ where: { id: row.sweepId }, select: { status: true } }) : null;
        if (sweep && ACTIVE.includes(sweep.status)) return { deleted: false, status: row.status, sweepId: row.sweepId! };
        const model = await tx.model.findUnique({ where: { jobId: id }, select: { id: true } });
        await tx.job.deleteMany({ where: { id } });
        return { deleted: true, modelId: model?.id ?? null };
      });
    },
    /**
     * queued -> running; a job already running (redelivered after a stall) stays running, and counts one more run
     * started on it. Returns the job's row afterwards (the worker trains from it when its status is running), null
     * when the job does not exist.
     */
    async markRunning(id: string): Promise<Job | null> {
      // One statement: every SET expression sees the row as it was, so "status" below is the status before it.
      // A job that reached the queue some other way still takes one of its tenant's slots while it trains.
      await db.$executeRaw`
        UPDATE "Job" SET
          "status" = CASE WHEN "status" = 'queued' THEN 'running'::"JobStatus" ELSE "status" END,
          "startedAt" = CASE WHEN "status" = 'queued' THEN now() ELSE "startedAt" END,
          "dispatchedAt" = COALESCE("dispatchedAt", now()),
          "unfinishedRuns" = "unfinishedRuns" + CASE WHEN "status" IN ('queued', 'running') THEN 1 ELSE 0 END
        WHERE "id" = ${id}::uuid`;
      return db.job.findUnique({ where: { id } });
    },
    /**
     * Records what a starting run multiplies on, when it is not what the job's last run used: a job that stays on
     * one backend keeps one entry, a resume on another adds one from the epoch it resumed at. One statement, so two
     * runs starting at once cannot both append.
     */
    async recordBackend(id: string, backend: Omit<GemmBackendRecord, 'fromEpoch'>, fromEpoch: number): Promise<void> {
      const entry = JSON.stringify({ gemm: backend.gemm, threads: backend.threads, fromEpoch } satisfies GemmBackendRecord);
      await db.$executeRaw`
        UPDATE "Job" SET "backends" = "backends" || jsonb_build_array(${entry}::jsonb)
        WHERE "id" = ${id}::uuid
          AND ("backends" -> -1 ->> 'gemm' IS DISTINCT FROM ${backend.gemm} OR ("backends" -> -1 ->> 'threads')::int IS DISTINCT FROM ${backend.threads})`;
    },
    /**
     * A run ended without a crash: handed back (shutdown, lost lock), or stopped for a cancel. The runs before it did
     * not crash either; and a cancelled job whose count is 0 has no run left, so its tenant's slot is free (admit).
     */
    async runHandedBack(id: string): Promise<void> {
      await db.job.updateMany({ where: { id }, data: { unfinishedRuns: 0 } });
    },
    /**
     * Idempotent per (job, epoch), and ignored unless the job is running (a cancelled job records nothing more).
     * A run resumed from a checkpoint replays epochs already recorded: their rows are rewritten with the same values
     * and the job's progress never moves back.
     */
    async recordEpoch(id: string, r: EpochReport): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.job.updateMany({
          where: { id, status: 'running', epoch: { lte: r.epoch } },
          data: { epoch: r.epoch, loss: r.loss, valLoss: r.valLoss, accuracy: r.accuracy, valAccuracy: r.valAccuracy },
        });
        if (count === 0 && (await tx.job.count({ where: { id, status: 'running' } })) === 0) return false;
        const metric = { loss: r.loss, valLoss: r.valLoss, accuracy: r.accuracy, valAccuracy: r.valAccuracy, learningRate: r.learningRate, ms: r.ms };
        await tx.jobMetric.upsert({
          where: { jobId_epoch: { jobId: id, epoch: r.epoch } },
          create: { jobId: id, epoch: r.epoch, ...metric },
          update: metric,
        });
        return true;
      });
    },
    /**
     * Never replaces a later checkpoint: two runs of one job (at-least-once delivery) may report out of order. Nothing
     * is written for a job deleted meanwhile (its tenant was deleted while it trained).
     */
    async recordCheckpoint(id: string, cp: TrainingCheckpoint): Promise<void> {
      await db.$executeRaw`
        INSERT INTO "Checkpoint" ("jobId", "epoch", "data", "updatedAt")
        SELECT ${id}::uuid, ${cp.epoch}, ${JSON.stringify(cp)}::jsonb, now() WHERE EXISTS (SELECT 1 FROM "Job" WHERE "id" = ${id}::uuid)
        ON CONFLICT ("jobId") DO UPDATE SET "epoch" = EXCLUDED."epoch", "data" = EXCLUDED."data", "updatedAt" = now()
        WHERE "Checkpoint"."epoch" <= EXCLUDED."epoch"`;
    },
    latestCheckpoint: (id: string) => db.checkpoint.findUnique({ where: { jobId: id } }),
    /** Stores the model and marks the job succeeded in one transaction; a redelivered final changes nothing. */
    async recordFinal(id: string, weights: SerializedModel, last: EpochReport | null, epochs: number, evaluation: Evaluation | null): Promise<string | null> {
      return db.$transaction(async (tx) => {
        // The job's row is held from the status check to the status write: a cancel committed in between would
        // otherwise be overwritten with "succeeded" after it answered 200. A cancel that came first wins here.
        await tx.$queryRaw`SELECT 1 FROM "Job" WHERE "id" = ${id}::uuid FOR UPDATE`;
        // The dataset's column names only: its packed arrays are tens of megabytes the model does not need.
        const job = await tx.job.findUnique({
          where: { id },
          include: { dataset: { select: { features: true, targets: true, classes: true } }, result: { select: { id: true } } },
        });
        if (!job || job.status !== 'running') return job?.result?.id ?? null;
        // DELETE /v1/datasets/:id refuses while a job uses the dataset: a guard, not a path.
        if (!job.dataset) throw new Error(`the dataset of job ${id} was deleted while it trained`);
        const modelId = randomUUID();
        await tx.model.create({
          data: {
            id: modelId,
            tenantId: job.tenantId,
            jobId: id,
            spec: job.model as Prisma.InputJsonValue,
            preprocessing: job.preprocessing as Prisma.InputJsonValue,
            features: job.dataset.features as Prisma.InputJsonValue,
            targets: job.dataset.targets as Prisma.InputJsonValue,
            classes: (job.dataset.classes ?? undefined) as Prisma.InputJsonValue | undefined,
            metrics: {
              epochs,
              loss: last?.loss ?? null,
              valLoss: last?.valLoss ?? null,
              accuracy: last?.accuracy ?? null,
              valAccuracy: last?.valAccuracy ?? null,
            },
            ...(evaluation ? { evaluation: evaluation as Prisma.InputJsonValue } : {}),
            weights: weights as unknown as Prisma.InputJsonValue,
            weightBytes: weightBytesOf(weights),
            backends: job.backends as Prisma.InputJsonValue,
          },
        });
        // In this transaction: the model and its version are stored together, and the name's row lock orders
        // versions of jobs finishing at once.
        if (job.modelName) await registerVersion(tx, job.tenantId, job.modelName, modelId);
        await tx.job.update({ where: { id }, data: { status: 'succeeded', finishedAt: new Date() } });
        return modelId;
      });
    },
    /** Only an active job can fail; a cancelled job stays cancelled. */
    async markFailed(id: string, error: JobError): Promise<boolean> {
      const { count } = await db.job.updateMany({
        where: { id, status: { in: ACTIVE } },
        data: { status: 'failed', error: error as Prisma.InputJsonValue, finishedAt: new Date() },
      });
      return count > 0;
    },
    /** Internal lookup by id only: the dispatcher acts on behalf of the owning tenant. */
    statusAndTenant: (id: string) => db.job.findUnique({ where: { id }, select: { status: true, tenantId: true } }),
    /**
     * Gives the tenant's oldest waiting jobs the slots it has free (at most `limit` of its jobs queued on Redis or
     * training, a cancelled job counting until its run has stopped) and returns their ids, for the caller to enqueue. The advisory lock serialises admission per tenant
     * across API and worker processes, so two admitters never hand out the same slot.
     */
    async admit(tenantId: string, limit: number): Promise<string[]> {
      return db.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext('job-admission'), hashtext(${tenantId}))::text AS locked`;
        const inFlight = await tx.job.count({
          where: { tenantId, OR: [{ status: { in: ACTIVE }, dispatchedAt: { not: null } }, { status: 'cancelled', unfinishedRuns: { gt: 0 } }] },
        });
        if (inFlight >= limit) return [];
        const next = await tx.job.findMany({
          where: { tenantId, status: 'queued', dispatchedAt: null },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          take: limit - inFlight,
          select: { id: true },
        });
        const ids = next.map((j) => j.id);
        if (ids.length) await tx.job.updateMany({ where: { id: { in: ids } }, data: { dispatchedAt: new Date() } });
        return ids;
      });
    },
    /** Active jobs that hold a slot: each of them must be on the queue (or training). */
    dispatchedActive: async () =>
      (await db.job.findMany({ where: { status: { in: ACTIVE }, dispatchedAt: { not: null } }, select: { id: true } })).map((j) => j.id),
    /** Cancelled jobs that still hold their tenant's slot: a run of theirs has not been seen to end. */
    cancelledWithRuns: () => db.job.findMany({ where: { status: 'cancelled', unfinishedRuns: { gt: 0 } }, select: { id: true, tenantId: true } }),
    /** Tenants with jobs waiting for a slot. */
    tenantsWaiting: async () =>
      (await db.job.findMany({ where: { status: 'queued', dispatchedAt: null }, distinct: ['tenantId'], select: { tenantId: true } })).map((j) => j.tenantId),
  };
}
export type JobRepository = ReturnType<typeof jobRepository>;
/** What a new job names was deleted since the caller read it: the dataset or the warm start's model. */
export class ReferenceGoneError extends Error {
  override name = 'ReferenceGoneError';
  constructor(readonly field: 'datasetId' | 'initialModelId') {
    super(`${field}: deleted while the job was being created`);
  }
}
/** What DELETE /v1/jobs/:id did: deleted (and the model it leaves), or not, for the job is still active. */
export type JobDeletion = { deleted: true; modelId: string | null } | { deleted: false; status: JobStatus; sweepId?: string };
