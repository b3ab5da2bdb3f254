import { randomUUID } from 'node:crypto';
import type { JobError, JobStatus, JobView } from '../contracts/jobs.js';
import type { ModelSpecBody } from '../contracts/model-spec.js';
import type { StoredPreprocessing, Training } from '../contracts/training.js';
import type { EpochReport, SerializedModel, TrainingCheckpoint } from '../engine/index.js';
import type { Db } from './client.js';
import type { Prisma } from '../generated/prisma/client.js';

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
  result: { select: { id: true } },
} as const;

type ViewRow = Prisma.JobGetPayload<{ select: typeof viewSelect }>;

function toView(row: ViewRow): JobView {
  const { result, error, createdAt, startedAt, finishedAt, ...rest } = row;
  return {
    ...rest,
    error: (error as JobError | null) ?? null,
    modelId: result?.id ?? null,
    createdAt: createdAt.toISOString(),
    startedAt: startedAt?.toISOString() ?? null,
    finishedAt: finishedAt?.toISOString() ?? null,
  };
}

export interface NewJob {
  tenantId: string;
  datasetId: string;
  model: ModelSpecBody & { inputSize: number };
  training: Training & { seed: number };
  preprocessing: StoredPreprocessing;
}

export function jobRepository(db: Db) {
  return {
    async create(job: NewJob): Promise<string> {
      const id = randomUUID();
      await db.job.create({ data: { id, ...job, epochs: job.training.epochs } });
      return id;
    },
    async get(tenantId: string, id: string): Promise<JobView | null> {
      const row = await db.job.findFirst({ where: { id, tenantId }, select: viewSelect });
      return row ? toView(row) : null;
    },
    /** Internal lookup by id only: the worker and the producer act on behalf of the owning tenant. */
    getRow: (id: string) => db.job.findUnique({ where: { id } }),
    async list(tenantId: string, opts: { status?: JobStatus; limit: number; cursor?: string }) {
      const rows = await db.job.findMany({
        where: { tenantId, ...(opts.status ? { status: opts.status } : {}) },
        select: viewSelect,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: opts.limit + 1,
        ...(opts.cursor ? { cursor: { id: opts.cursor }, skip: 0 } : {}),
      });
      const page = rows.slice(0, opts.limit);
      return { items: page.map(toView), nextCursor: rows.length > opts.limit ? rows[opts.limit].id : null };
    },
    async metrics(tenantId: string, id: string) {
      const job = await db.job.findFirst({ where: { id, tenantId }, select: { id: true } });
      if (!job) return null;
      return db.jobMetric.findMany({
        where: { jobId: id },
        orderBy: { epoch: 'asc' },
        select: { epoch: true, loss: true, valLoss: true, accuracy: true, valAccuracy: true, ms: true },
      });
    },
    /** Returns false when the job does not exist for this tenant. Finished jobs stay as they are. */
    async cancel(tenantId: string, id: string): Promise<boolean> {
      const { count } = await db.job.updateMany({
        where: { id, tenantId, status: { in: ACTIVE } },
        data: { status: 'cancelled', finishedAt: new Date() },
      });
      if (count > 0) return true;
      return (await db.job.count({ where: { id, tenantId } })) > 0;
    },
    /** queued -> running; a job already running (redelivered after a stall) stays running. Returns the status. */
    async markRunning(id: string): Promise<JobStatus | null> {
      await db.job.updateMany({ where: { id, status: 'queued' }, data: { status: 'running', startedAt: new Date() } });
      const row = await db.job.findUnique({ where: { id }, select: { status: true } });
      return row?.status ?? null;
    },
    /** Idempotent per (job, epoch), and ignored unless the job is running (a cancelled job records nothing more). */
    async recordEpoch(id: string, r: EpochReport): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.job.updateMany({
          where: { id, status: 'running' },
          data: { epoch: r.epoch, loss: r.loss, valLoss: r.valLoss, accuracy: r.accuracy, valAccuracy: r.valAccuracy },
        });
        if (count === 0) return false;
        const metric = { loss: r.loss, valLoss: r.valLoss, accuracy: r.accuracy, valAccuracy: r.valAccuracy, ms: r.ms };
        await tx.jobMetric.upsert({
          where: { jobId_epoch: { jobId: id, epoch: r.epoch } },
          create: { jobId: id, epoch: r.epoch, ...metric },
          update: metric,
        });
        return true;
      });
    },
    async recordCheckpoint(id: string, cp: TrainingCheckpoint): Promise<void> {
      const data = cp as unknown as Prisma.InputJsonValue;
      await db.checkpoint.upsert({
        where: { jobId: id },
        create: { jobId: id, epoch: cp.epoch, data },
        update: { epoch: cp.epoch, data },
      });
    },
    latestCheckpoint: (id: string) => db.checkpoint.findUnique({ where: { jobId: id } }),
    /** Stores the model and marks the job succeeded in one transaction; a redelivered final changes nothing. */
    async recordFinal(id: string, weights: SerializedModel, last: EpochReport | null, epochs: number): Promise<string | null> {
      return db.$transaction(async (tx) => {
        const job = await tx.job.findUnique({ where: { id }, include: { dataset: true, result: { select: { id: true } } } });
        if (!job || job.status !== 'running') return job?.result?.id ?? null;
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
            weights: weights as unknown as Prisma.InputJsonValue,
          },
        });
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
    status: async (id: string) => (await db.job.findUnique({ where: { id }, select: { status: true } }))?.status ?? null,
    activeIds: async () => (await db.job.findMany({ where: { status: { in: ACTIVE } }, select: { id: true } })).map((j) => j.id),
  };
}
export type JobRepository = ReturnType<typeof jobRepository>;
