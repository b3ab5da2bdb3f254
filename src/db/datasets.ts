import { randomUUID } from 'node:crypto';
import type { ColumnStats } from '../contracts/datasets.js';
import type { EncodedDataset } from '../data/encode-dataset.js';
import { packFloat32, unpackFloat32 } from '../data/float-pack.js';
import type { Db } from './client.js';

/** Everything but the packed arrays, which only the producer needs. */
const summary = {
  id: true,
  name: true,
  rowCount: true,
  features: true,
  targets: true,
  classes: true,
  createdAt: true,
} as const;

export interface DatasetSummary {
  id: string;
  name: string;
  rows: number;
  features: string[];
  targets: string[];
  classes?: string[];
  createdAt: Date;
}

type SummaryRow = { id: string; name: string; rowCount: number; features: unknown; targets: unknown; classes: unknown; createdAt: Date };

function toSummary(row: SummaryRow): DatasetSummary {
  return {
    id: row.id,
    name: row.name,
    rows: row.rowCount,
    features: row.features as string[],
    targets: row.targets as string[],
    ...(row.classes ? { classes: row.classes as string[] } : {}),
    createdAt: row.createdAt,
  };
}

export function datasetRepository(db: Db) {
  return {
    async create(tenantId: string, name: string, data: EncodedDataset): Promise<DatasetSummary> {
      const row = await db.dataset.create({
        data: {
          id: randomUUID(),
          tenantId,
          name,
          rowCount: data.rows,
          features: data.features,
          targets: data.targets,
          classes: data.classes,
          stats: data.stats,
          inputs: packFloat32(data.inputs),
          outputs: packFloat32(data.outputs),
        },
        select: summary,
      });
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
    /** The packed training arrays plus the column statistics preprocessing needs. */
    async getTrainingData(tenantId: string, id: string) {
      const row = await db.dataset.findFirst({ where: { id, tenantId } });
      if (!row) return null;
      const inputs = unpackFloat32(row.inputs);
      const outputs = unpackFloat32(row.outputs);
      return {
        ...toSummary(row),
        stats: row.stats as Record<string, ColumnStats>,
        inputs,
        outputs,
        outputWidth: outputs.length / row.rowCount,
      };
    },
  };
}
export type DatasetRepository = ReturnType<typeof datasetRepository>;
