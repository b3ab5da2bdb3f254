import { basename, extname } from 'node:path';
import type { ApiClient } from '../api-client.js';
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
}

interface DatasetCreated {
  id: string;
  rows: number;
  features: string[];
  classes?: string[];
}

/** Upload, submit, follow; prints the model id on stdout when the job succeeds. */
export async function train(client: ApiClient, args: TrainArgs, out: Output): Promise<void> {
  const spec = await readJobSpec(args.specPath);
  const csv = await readText(args.csvPath);
  const name = args.name ?? basename(args.csvPath, extname(args.csvPath));

  const query = new URLSearchParams({ name, target: args.target });
  if (args.sequence) query.set('sequence', args.sequence);
  if (args.perStepTargets) query.set('perStepTargets', 'true');
  const dataset = await client.post<DatasetCreated>(`/v1/datasets?${query}`, { csv });
  const classes = dataset.classes ? ` (${dataset.classes.length} classes)` : '';
  out.stderr.write(`dataset ${dataset.id}: ${dataset.rows} rows, ${dataset.features.length} features -> ${args.target}${classes}\n`);

  const job = await client.post<{ id: string }>('/v1/jobs', { json: { datasetId: dataset.id, ...spec } });
  out.stderr.write(`job ${job.id} queued\n`);
  const modelId = await watch(client, job.id, out);
  out.stdout.write(`${modelId}\n`);
}
