import type { Evaluation } from '../../contracts/evaluation.js';
import type { ApiClient } from '../api-client.js';
import { formatEvaluation } from '../evaluation-report.js';
import type { Output } from './output.js';

export interface EvaluateArgs {
  modelId: string;
  datasetId: string;
  /** The API's answer as JSON rather than text. */
  json?: boolean;
}

/** POST /v1/models/:id/evaluate: the model judged on another dataset, printed on stdout. */
export async function evaluate(client: ApiClient, args: EvaluateArgs, out: Output): Promise<void> {
  const evaluation = await client.post<Evaluation>(`/v1/models/${encodeURIComponent(args.modelId)}/evaluate`, { json: { datasetId: args.datasetId } });
  out.stdout.write(args.json ? `${JSON.stringify(evaluation, null, 2)}\n` : formatEvaluation(evaluation));
}
