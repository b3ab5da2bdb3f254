import type { JobView } from '../../contracts/jobs.js';
import type { ApiClient } from '../api-client.js';
import { CliError } from '../errors.js';
import { followJob } from '../follow-job.js';
import { formatNumber, ProgressLine } from '../progress-line.js';
import type { Output } from './output.js';

/** Follows a job with a progress line; returns its model id, or throws with the job's error. */
export async function watch(client: ApiClient, jobId: string, out: Output): Promise<string> {
  const line = new ProgressLine(out.stderr);
  let outcome;
  try {
    outcome = await followJob(client, jobId, { onProgress: (p) => line.update(p) });
  } finally {
    line.done();
  }
  if (outcome.status === 'failed') {
    const error = outcome.error ?? { code: 'ERR_UNKNOWN', message: 'no error recorded' };
    throw new CliError(`job ${jobId} failed: ${error.code}: ${error.message}`);
  }
  if (outcome.status === 'cancelled') throw new CliError(`job ${jobId} was cancelled`);
  const job = await client.get<JobView>(`/v1/jobs/${jobId}`);
  const modelId = outcome.modelId ?? job.modelId;
  if (!modelId) throw new CliError(`job ${jobId} succeeded but names no model`);
  const figures = [
    job.loss !== null ? `loss ${formatNumber(job.loss)}` : '',
    job.valLoss !== null ? `val loss ${formatNumber(job.valLoss)}` : '',
    job.valAccuracy !== null ? `val accuracy ${(job.valAccuracy * 100).toFixed(1)}%` : '',
  ].filter(Boolean);
  out.stderr.write(`job ${jobId} succeeded after ${job.epoch} epochs${figures.length ? `: ${figures.join(', ')}` : ''}\n`);
  return modelId;
}
