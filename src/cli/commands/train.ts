import { basename, extname } from 'node:path';
import type { z } from 'zod';
import type { modelSchema } from '../../contracts/models.js';
import type { ApiClient } from '../api-client.js';
import { formatDatasetNotes, type DatasetDetail } from '../dataset-report.js';
import { formatEvaluation } from '../evaluation-report.js';
import { readJobSpec, readText } from '../input-files.js';
import type { Output } from './output.js';
import { watch } from './watch.js';

export interface TrainArgs {
  specPath: string;
  csvPath: string;
  /** Target column(s), comma separated, as the datasets route takes them. */
  target: string;
  /** Dataset name; the CSV's file name without extension by default. */
  name?: string;
  /** Sequence CSV: the column holding the sequence id (one row per step). */
  sequence?: string;
  /** Sequence CSV: a target on every step rather than the last row's only. */
  perStepTargets?: boolean;
  /** Columns to leave out, comma separated (?ignore=). */
  ignore?: string;
  /** Declared column types, comma separated column:type pairs (?columnTypes=). */
  columnTypes?: string;
}

interface DatasetCreated {
  id: string;
  rows: number;
  features: string[];
  classes?: string[];
}

type ModelView = z.infer<typeof modelSchema>;

/** Upload, submit, follow; prints the model id on stdout when the job succeeds, and its evaluation on stderr. */
export async function train(client: ApiClient, args: TrainArgs, out: Output): Promise<void> {
  const spec = await readJobSpec(args.specPath);
  const csv = await readText(args.csvPath);
  const name = args.name ?? basename(args.csvPath, extname(args.csvPath));

  const query = new URLSearchParams({ name, target: args.target });
  if (args.sequence) query.set('sequence', args.sequence);
  if (args.perStepTargets) query.set('perStepTargets', 'true');
  if (args.ignore) query.set('ignore', args.ignore);
  if (args.columnTypes) query.set('columnTypes', args.columnTypes);
  const dataset = await client.post<DatasetCreated>(`/v1/datasets?${query}`, { csv });
  const classes = dataset.classes ? ` (${dataset.classes.length} classes)` : '';
  out.stderr.write(`dataset ${dataset.id}: ${dataset.rows} rows, ${dataset.features.length} features -> ${args.target}${classes}\n`);
  out.stderr.write(formatDatasetNotes(await client.get<DatasetDetail>(`/v1/datasets/${dataset.id}`)));

  const job = await client.post<{ id: string }>('/v1/jobs', { json: { datasetId: dataset.id, ...spec } });
  out.stderr.write(`job ${job.id} queued\n`);
  const modelId = await watch(client, job.id, out);
  const model = await client.get<ModelView>(`/v1/models/${modelId}`);
  if (model.evaluation) out.stderr.write(formatEvaluation(model.evaluation));
  out.stdout.write(`${modelId}\n`);
}
