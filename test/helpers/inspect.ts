// Reads Postgres directly, as an auditor would: what a fault test asserts is what is stored, not what the API shows.
import pg from 'pg';

export interface Inspector {
  /** Epoch numbers of the job's metric rows, in order. */
  metricEpochs(jobId: string): Promise<number[]>;
  metricLosses(jobId: string): Promise<number[]>;
  /** The stored model weights as Postgres returns them (jsonb, so key order is canonical). */
  modelWeights(jobId: string): Promise<string | null>;
  modelCount(jobId: string): Promise<number>;
  checkpointEpoch(jobId: string): Promise<number | null>;
  job(jobId: string): Promise<{ status: string; epoch: number; startedAt: Date | null; finishedAt: Date | null; error: unknown } | null>;
  /** finishedAt - startedAt of a finished job, in ms. */
  durationMs(jobId: string): Promise<number>;
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function inspectDatabase(url: string): Promise<Inspector> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await client.query<T>(sql, params)).rows;
  const job: Inspector['job'] = async (jobId) =>
    (await query<{ status: string; epoch: number; startedAt: Date | null; finishedAt: Date | null; error: unknown }>(
      'SELECT status, epoch, "startedAt", "finishedAt", error FROM "Job" WHERE id = $1',
      [jobId],
    ))[0] ?? null;
  return {
    query,
    metricEpochs: async (jobId) => (await query<{ epoch: number }>('SELECT epoch FROM "JobMetric" WHERE "jobId" = $1 ORDER BY epoch', [jobId])).map((r) => r.epoch),
    metricLosses: async (jobId) => (await query<{ loss: number }>('SELECT loss FROM "JobMetric" WHERE "jobId" = $1 ORDER BY epoch', [jobId])).map((r) => r.loss),
    modelWeights: async (jobId) => (await query<{ w: string }>('SELECT weights::text AS w FROM "Model" WHERE "jobId" = $1', [jobId]))[0]?.w ?? null,
    modelCount: async (jobId) => Number((await query<{ n: string }>('SELECT count(*) AS n FROM "Model" WHERE "jobId" = $1', [jobId]))[0].n),
    checkpointEpoch: async (jobId) => (await query<{ epoch: number }>('SELECT epoch FROM "Checkpoint" WHERE "jobId" = $1', [jobId]))[0]?.epoch ?? null,
    job,
    durationMs: async (jobId) => {
      const row = (await job(jobId))!;
      return row.finishedAt!.getTime() - row.startedAt!.getTime();
    },
    close: () => client.end(),
  };
}

/** 1..n */
export const epochsUpTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
