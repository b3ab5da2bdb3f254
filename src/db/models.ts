import { randomUUID } from 'node:crypto';
import type { Evaluation } from '../contracts/evaluation.js';
import type { ModelSpecBody } from '../contracts/model-spec.js';
import type { StoredPreprocessing } from '../contracts/preprocessing.js';
import type { SerializedModel } from '../engine/index.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from './client.js';
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
  weights: SerializedModel;
  createdAt: Date;
}

/** A model that did not come from a training job here (POST /v1/models): no job, no dataset, no training metrics. */
export type ImportedModel = Pick<StoredModel, 'spec' | 'preprocessing' | 'features' | 'targets' | 'classes' | 'weights'>;

const NO_METRICS: StoredModel['metrics'] = { epochs: 0, loss: null, valLoss: null, accuracy: null, valAccuracy: null };

export function modelRepository(db: Db) {
  const get = async (tenantId: string, id: string): Promise<StoredModel | null> => {
    const row = await db.model.findFirst({ where: { id, tenantId }, include: { job: { select: { datasetId: true } } } });
    if (!row) return null;
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
      weights: row.weights as unknown as SerializedModel,
      createdAt: row.createdAt,
    };
  };
  return {
    get,
    /** A model's evaluation alone (its weights stay in Postgres). */
    async evaluation(tenantId: string, id: string): Promise<Evaluation | null> {
      const row = await db.model.findFirst({ where: { id, tenantId }, select: { evaluation: true } });
      return (row?.evaluation as Evaluation | null | undefined) ?? null;
    },
    /** With `quotas`, checked under the tenant's quota lock in the transaction that stores the model (QuotaExceededError: nothing stored). */
    async import(tenantId: string, model: ImportedModel, quotas?: QuotaDefaults): Promise<StoredModel> {
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
      if (quotas) {
        await db.$transaction(async (tx) => {
          await enforceQuota(prismaQuery(tx), tenantId, quotas, { what: 'this model', models: 1, storageBytes: weightBytes });
          await create(tx);
        });
      } else {
        await create(db);
      }
      return (await get(tenantId, id))!;
    },
  };
}
export type ModelRepository = ReturnType<typeof modelRepository>;
