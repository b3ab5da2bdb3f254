import { randomUUID } from 'node:crypto';
import type { ColumnStats, DatasetKind } from '../contracts/datasets.js';
import type { EncodedDataset } from '../data/encode-dataset.js';
import { packFloat32, unpackFloat32 } from '../data/float-pack.js';
import { copyByteaColumns } from './bytea-copy.js';
import { poolOf, type Db } from './client.js';
import { insertDataset } from './dataset-insert.js';

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
    /** One COPY of one row (src/db/dataset-insert.ts): the packed arrays go to Postgres as their bytes, stored whole or not at all. */
    async create(tenantId: string, name: string, data: EncodedDataset): Promise<DatasetSummary> {
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
        inputs: packFloat32(data.inputs),
        outputs: packFloat32(data.outputs),
        createdAt: new Date(),
      };
      await insertDataset(poolOf(db), row);
      return toSummary(row);
    },
    async get(tenantId: string, id: string) {
      const row = await db.dataset.findFirst({ where: { id, tenantId }, select: { ...summary, stats: true } });
      return row ? { ...toSummary(row), stats: row.stats as Record<string, ColumnStats> } : null;
    },
    async list(tenantId: string, limit = 100) {
      const rows = await db.dataset.findMany({ where: { tenantId }, select: summary, orderBy: { createdAt: 'desc' }, take: limit });
      return rows.map(toSummary);
    },
    /**
     * The summary and the packed training arrays (the job's stored preprocessing applies to them). The arrays come
     * by binary COPY (src/db/bytea-copy.ts) into shared memory, which training threads read without a copy each.
     * The two reads go out at once, one round trip of waiting rather than two; a dataset never changes once stored.
     */
    async getTrainingData(tenantId: string, id: string) {
      const [row, packed] = await Promise.all([
        db.dataset.findFirst({ where: { id, tenantId }, select: summary }),
        copyByteaColumns(poolOf(db), 'Dataset', ['inputs', 'outputs'], { id, tenantId }),
      ]);
      if (!row || !packed) return null;
      const [inputs, outputs] = packed.map((bytes) => unpackFloat32(bytes, true));
      return { ...toSummary(row), inputs, outputs };
    },
  };
}
export type DatasetRepository = ReturnType<typeof datasetRepository>;
/** What a run's set-up reads a dataset through: the repository itself, or the worker's cache in front of it. */
export type TrainingDataReader = Pick<DatasetRepository, 'getTrainingData'>;
