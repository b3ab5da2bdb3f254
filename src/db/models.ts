import type { ModelSpecBody } from '../contracts/model-spec.js';
import type { StoredPreprocessing } from '../contracts/training.js';
import type { SerializedModel } from '../engine/index.js';
import type { Db } from './client.js';

export interface StoredModel {
  id: string;
  jobId: string;
  datasetId: string;
  spec: ModelSpecBody & { inputSize: number };
  preprocessing: StoredPreprocessing;
  features: string[];
  targets: string[];
  classes?: string[];
  metrics: { epochs: number; loss: number | null; valLoss: number | null; accuracy: number | null; valAccuracy: number | null };
  weights: SerializedModel;
  createdAt: Date;
}

export function modelRepository(db: Db) {
  return {
    async get(tenantId: string, id: string): Promise<StoredModel | null> {
      const row = await db.model.findFirst({ where: { id, tenantId }, include: { job: { select: { datasetId: true } } } });
      if (!row) return null;
      return {
        id: row.id,
        jobId: row.jobId,
        datasetId: row.job.datasetId,
        spec: row.spec as StoredModel['spec'],
        preprocessing: row.preprocessing as StoredPreprocessing,
        features: row.features as string[],
        targets: row.targets as string[],
        ...(row.classes ? { classes: row.classes as string[] } : {}),
        metrics: row.metrics as StoredModel['metrics'],
        weights: row.weights as unknown as SerializedModel,
        createdAt: row.createdAt,
      };
    },
  };
}
export type ModelRepository = ReturnType<typeof modelRepository>;
