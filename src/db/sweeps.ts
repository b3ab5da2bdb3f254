// Sweeps and their scheduler. A sweep is a row of its own; each trial is an ordinary job with sweepId, sweepTrial
// and sweepRung. `advance` makes the jobs the sweep needs next (src/sweeps/schedule.ts decides which) under the
// sweep's row lock, and ends the sweep once every job it will have has ended. It is idempotent: run it after a job
// ends (worker), after a create or cancel (API) and on every reconcile pass, in any number of processes at once, and
// each (sweep, trial, rung) job is made once (the row lock, and the unique index behind it).
import { randomUUID } from 'node:crypto';
import type { Evaluation } from '../contracts/evaluation.js';
import type { JobError, JobStatus } from '../contracts/jobs.js';
import type { Objective, SweepStrategy, SweepView } from '../contracts/sweeps.js';
import { objectiveOf } from '../sweeps/objective.js';
import { nextJobs, type SweepShape } from '../sweeps/schedule.js';
import type { Params } from '../sweeps/space.js';
import { sweepView, type SweepJob, type SweepRowForView } from '../sweeps/view.js';
import type { Db } from './client.js';
import { pageArgs, pageFrom, type PageQuery } from './pages.js';
import { enforceQuota, prismaQuery, type QuotaDefaults } from './quotas.js';
import type { Prisma, Sweep } from '../generated/prisma/client.js';

const ACTIVE: JobStatus[] = ['queued', 'running'];

/** One configuration as stored in Sweep.plan: its params and the job settings they make. */
export interface StoredTrial {
  params: Params;
  model: Prisma.InputJsonValue;
  training: Record<string, unknown> & { epochs: number };
  preprocessing: Prisma.InputJsonValue;
  modelBytes: number;
}

/** The request as stored: with its space's paths in the order sent (JSONB keeps object keys in an order of its own). */
export type StoredRequest = SweepView['request'] & { paths: string[] };

export interface NewSweep {
  tenantId: string;
  datasetId: string;
  strategy: SweepStrategy;
  objective: Objective;
  parallelism: number;
  eta: number;
  request: StoredRequest;
  trials: StoredTrial[];
  rungEpochs: number[];
}

const jobSelect = {
  id: true,
  status: true,
  epochs: true,
  valLoss: true,
  valAccuracy: true,
  sweepTrial: true,
  sweepRung: true,
  result: { select: { id: true, evaluation: true } },
} as const;
type JobRow = Prisma.JobGetPayload<{ select: typeof jobSelect }>;

const shapeOf = (row: Sweep): SweepShape => {
  const request = row.request as unknown as SweepView['request'];
  return {
    strategy: row.strategy as SweepStrategy,
    trials: (row.plan as unknown as StoredTrial[]).length,
    rungEpochs: row.rungEpochs as number[],
    eta: request.halving?.eta ?? 3,
    parallelism: row.parallelism,
    objective: row.objective as Objective,
  };
};

function trialJob(objective: Objective, job: JobRow): SweepJob {
  const value = job.status === 'succeeded' ? objectiveOf(objective, job, (job.result?.evaluation ?? null) as Evaluation | null) : null;
  return {
    jobId: job.id,
    trial: job.sweepTrial!,
    rung: job.sweepRung!,
    status: job.status,
    epochs: job.epochs,
    objective: value !== null && Number.isFinite(value) ? value : null,
    modelId: job.result?.id ?? null,
  };
}

/** `object` with its keys in `order` (the space's paths as sent). */
const ordered = <T>(object: Record<string, T>, order: string[]): Record<string, T> => Object.fromEntries(order.filter((k) => k in object).map((k) => [k, object[k]]));

function forView(row: Sweep): SweepRowForView {
  const { paths, ...request } = row.request as unknown as StoredRequest;
  return {
    id: row.id,
    datasetId: row.datasetId,
    status: row.status,
    shape: shapeOf(row),
    params: (row.plan as unknown as StoredTrial[]).map((t) => ordered(t.params, paths)),
    request: { ...request, space: ordered(request.space, paths) },
    error: row.error as JobError | null,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
  };
}

async function viewOf(db: Db | Prisma.TransactionClient, row: Sweep): Promise<SweepView> {
  return (await viewsOf(db, [row]))[0];
}

/** The views of several sweeps, their jobs read in one query. */
async function viewsOf(db: Db | Prisma.TransactionClient, rows: Sweep[]): Promise<SweepView[]> {
  const jobs = rows.length ? await db.job.findMany({ where: { sweepId: { in: rows.map((r) => r.id) } }, select: { ...jobSelect, sweepId: true } }) : [];
  return rows.map((row) => {
    const objective = row.objective as Objective;
    return sweepView(forView(row), jobs.filter((j) => j.sweepId === row.id).map((j) => trialJob(objective, j)));
  });
}

export function sweepRepository(db: Db) {
  return {
    /**
     * Stores the sweep; its first jobs come from `advance`. With `quotas`, the sweep is checked as every model its
     * jobs can make at most (each rung's job stores one), in the transaction that stores it.
     */
    async create(sweep: NewSweep, quotas?: QuotaDefaults): Promise<string> {
      const id = randomUUID();
      const shape = { strategy: sweep.strategy, trials: sweep.trials.length, rungEpochs: sweep.rungEpochs, eta: sweep.eta } as SweepShape;
      const jobsAtMost = sweep.rungEpochs.reduce((n, _, r) => n + (r === 0 ? shape.trials : Math.max(1, Math.floor(shape.trials / shape.eta ** r))), 0);
      const largest = Math.max(...sweep.trials.map((t) => t.modelBytes));
      await db.$transaction(async (tx) => {
        if (quotas) await enforceQuota(prismaQuery(tx), sweep.tenantId, quotas, { what: "this sweep's models", models: jobsAtMost, storageBytes: jobsAtMost * largest });
        await tx.sweep.create({
          data: {
            id,
            tenantId: sweep.tenantId,
            datasetId: sweep.datasetId,
            strategy: sweep.strategy,
            objective: sweep.objective,
            parallelism: sweep.parallelism,
            request: sweep.request as unknown as Prisma.InputJsonValue,
            plan: sweep.trials as unknown as Prisma.InputJsonValue,
            rungEpochs: sweep.rungEpochs,
          },
        });
      });
      return id;
    },

    async get(tenantId: string, id: string): Promise<SweepView | null> {
      const row = await db.sweep.findFirst({ where: { id, tenantId } });
      return row ? viewOf(db, row) : null;
    },

    exists: async (tenantId: string, id: string) => (await db.sweep.findFirst({ where: { id, tenantId }, select: { id: true } })) !== null,

    async list(tenantId: string, query: PageQuery & { status?: JobStatus }) {
      // The stored status says queued for every unfinished sweep: a filter on running or queued reads them all.
      const stored = query.status === 'running' ? 'queued' : query.status;
      const rows = await db.sweep.findMany({ where: { tenantId, ...(stored ? { status: stored } : {}) }, ...pageArgs(query) });
      const page = pageFrom(rows, query.limit, (row) => row);
      const items = await viewsOf(db, page.items);
      return { items: query.status ? items.filter((s) => s.status === query.status) : items, nextCursor: page.nextCursor };
    },

    /**
     * Makes the jobs the sweep needs now and ends it when nothing is left to run. Returns the tenant whose new jobs
     * wait for admission (the caller dispatches them), or null when nothing was made.
     */
    async advance(id: string): Promise<{ tenantId: string; made: number } | null> {
      return db.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM "Sweep" WHERE "id" = ${id}::uuid FOR UPDATE`;
        const row = await tx.sweep.findUnique({ where: { id } });
        if (!row || !ACTIVE.includes(row.status)) return null;
        const shape = shapeOf(row);
        const jobs = (await tx.job.findMany({ where: { sweepId: id }, select: jobSelect })).map((j) => trialJob(shape.objective, j));
        const { make, done } = nextJobs(shape, jobs);
        if (done) {
          const won = jobs.some((j) => j.status === 'succeeded' && j.objective !== null);
          const error: JobError = { code: 'ERR_NO_TRIAL_SUCCEEDED', message: `none of the sweep's ${jobs.length} jobs succeeded with a ${shape.objective}` };
          await tx.sweep.update({
            where: { id },
            data: { status: won ? 'succeeded' : 'failed', finishedAt: new Date(), ...(won ? {} : { error: error as Prisma.InputJsonValue }) },
          });
          return null;
        }
        if (make.length === 0) return null;
        if (!row.datasetId) {
          const error: JobError = { code: 'ERR_DATASET_DELETED', message: "the sweep's dataset was deleted before all of its trials were made" };
          await tx.sweep.update({ where: { id }, data: { status: 'failed', finishedAt: new Date(), error: error as Prisma.InputJsonValue } });
          return null;
        }
        const plan = row.plan as unknown as StoredTrial[];
        const now = Date.now();
        const { count } = await tx.job.createMany({
          skipDuplicates: true,
          data: make.map(({ trial, rung }, i) => {
            const t = plan[trial];
            const epochs = shape.rungEpochs[rung];
            return {
              id: randomUUID(),
              tenantId: row.tenantId,
              datasetId: row.datasetId,
              model: t.model,
              training: { ...t.training, epochs } as Prisma.InputJsonValue,
              preprocessing: t.preprocessing,
              epochs,
              modelBytes: t.modelBytes,
              sweepId: id,
              sweepTrial: trial,
              sweepRung: rung,
              // Apart by a millisecond each, so that admission (oldest first) takes them in trial order.
              createdAt: new Date(now + i),
            };
          }),
        });
        return { tenantId: row.tenantId, made: count };
      });
    },

    /** Ends the sweep as cancelled and cancels its unfinished jobs; their ids come back for the caller to stop. */
    async cancel(tenantId: string, id: string): Promise<{ view: SweepView; cancelledJobs: string[] } | null> {
      return db.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1 FROM "Sweep" WHERE "id" = ${id}::uuid AND "tenantId" = ${tenantId}::uuid FOR UPDATE`;
        const row = await tx.sweep.findFirst({ where: { id, tenantId } });
        if (!row) return null;
        if (!ACTIVE.includes(row.status)) return { view: await viewOf(tx, row), cancelledJobs: [] };
        const cancelled = await tx.job.updateManyAndReturn({
          where: { sweepId: id, status: { in: ACTIVE } },
          data: { status: 'cancelled', finishedAt: new Date() },
          select: { id: true },
        });
        const ended = await tx.sweep.update({ where: { id }, data: { status: 'cancelled', finishedAt: new Date() } });
        return { view: await viewOf(tx, ended), cancelledJobs: cancelled.map((j) => j.id) };
      });
    },

    /** Internal lookup by job id (the worker acts for the owner): the sweep a job belongs to, if any. */
    sweepOfJob: async (jobId: string) => (await db.job.findUnique({ where: { id: jobId }, select: { sweepId: true } }))?.sweepId ?? null,

    /** Sweeps not ended: the reconciler advances each, so no end of a trial job is ever missed for good. */
    unfinished: async () => (await db.sweep.findMany({ where: { status: { in: ACTIVE } }, select: { id: true } })).map((s) => s.id),
  };
}
export type SweepRepository = ReturnType<typeof sweepRepository>;
