import type { ApiClient } from '../api-client.js';
import { readInputs, type ModelShape } from '../input-files.js';
import type { Output } from './output.js';

export interface PredictArgs {
  modelId: string;
  inputsPath: string;
}

interface Prediction {
  outputs: number[][];
  labels?: string[];
  /** Values the model had not seen in training, by row (index into the inputs sent) and column. */
  warnings?: { row: number; column: string; value: string; message: string }[];
}

/** Prints the API's answer, { outputs, labels?, warnings? }, as JSON on stdout; each warning also on stderr. */
export async function predict(client: ApiClient, args: PredictArgs, out: Output): Promise<void> {
  const model = `/v1/models/${encodeURIComponent(args.modelId)}`;
  const inputs = await readInputs(args.inputsPath, () => client.get<ModelShape>(model));
  const result = await client.post<Prediction>(`${model}/predict`, { json: { inputs: inputs.rows } });
  for (const { row, column, value } of result.warnings ?? []) {
    out.stderr.write(`warning: ${inputs.where(row)}: ${column} "${value}" was not seen in training; answered as the column's "other" category\n`);
  }
  out.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
