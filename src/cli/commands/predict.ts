import type { ApiClient } from '../api-client.js';
import { readInputs, type ModelShape } from '../input-files.js';
import type { Output } from './output.js';

export interface PredictArgs {
  modelId: string;
  inputsPath: string;
}

/** Prints the API's answer, { outputs, labels? }, as JSON on stdout. */
export async function predict(client: ApiClient, args: PredictArgs, out: Output): Promise<void> {
  const model = `/v1/models/${encodeURIComponent(args.modelId)}`;
  const inputs = await readInputs(args.inputsPath, () => client.get<ModelShape>(model));
  const result = await client.post<{ outputs: number[][]; labels?: string[] }>(`${model}/predict`, { json: { inputs } });
  out.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
