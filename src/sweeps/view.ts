// What GET /v1/sweeps/:id shows, from the sweep's row and its trial jobs: per configuration its latest job, and the
// best succeeded job so far. Status is stored only once the sweep has ended; before, it is queued until one of its
// jobs has started and running after.
import { finishedStatuses, type JobError, type JobStatus } from '../contracts/jobs.js';
import { OBJECTIVES, type Objective, type SweepTrialView, type SweepView } from '../contracts/sweeps.js';
import { compareObjective, promoted, type SweepShape, type TrialJob } from './schedule.js';
import type { Params } from './space.js';

export interface SweepJob extends TrialJob {
  jobId: string;
  epochs: number;
  modelId: string | null;
}

export interface SweepRowForView {
  id: string;
  datasetId: string | null;
  status: JobStatus;
  shape: SweepShape;
  params: Params[];
  request: SweepView['request'];
  error: JobError | null;
  createdAt: Date;
  finishedAt: Date | null;
}

function trialView(row: SweepRowForView, jobs: SweepJob[], trial: number): SweepTrialView {
  const own = jobs.filter((j) => j.trial === trial).sort((a, b) => b.rung - a.rung);
  const latest = own[0];
  const params = row.params[trial];
  if (!latest) {
    const status: JobStatus = finishedStatuses.includes(row.status) ? 'cancelled' : 'queued';
    return { trial, params, jobId: null, rung: 0, epochs: row.shape.rungEpochs[0], status, objective: null, stoppedEarly: false };
  }
  const lastRung = row.shape.rungEpochs.length - 1;
  const next = latest.rung < lastRung && latest.status === 'succeeded' ? promoted(row.shape, jobs, latest.rung) : null;
  return {
    trial,
    params,
    jobId: latest.jobId,
    rung: latest.rung,
    epochs: latest.epochs,
    status: latest.status,
    objective: latest.objective,
    stoppedEarly: next !== null && !next.includes(trial),
  };
}

/** The best succeeded job of the sweep by the objective; on a tie the longer run, then the earlier trial. */
function bestOf(row: SweepRowForView, jobs: SweepJob[]): SweepView['best'] {
  let best: (SweepJob & { objective: number }) | null = null;
  for (const job of jobs) {
    if (job.status !== 'succeeded' || job.objective === null) continue;
    const candidate = job as SweepJob & { objective: number };
    const order = best === null ? -1 : compareObjective(row.shape.objective, candidate, best);
    const tieLonger = best !== null && candidate.objective === best.objective && candidate.rung > best.rung;
    if (order < 0 || tieLonger) best = candidate;
  }
  if (!best) return null;
  return { trial: best.trial, jobId: best.jobId, modelId: best.modelId, params: row.params[best.trial], epochs: best.epochs, objective: best.objective };
}

export function sweepView(row: SweepRowForView, jobs: SweepJob[]): SweepView {
  const ended = finishedStatuses.includes(row.status);
  const started = jobs.some((j) => j.status !== 'queued');
  const objective: Objective = row.shape.objective;
  return {
    id: row.id,
    datasetId: row.datasetId,
    status: ended ? row.status : started ? 'running' : 'queued',
    strategy: row.shape.strategy,
    objective,
    direction: OBJECTIVES[objective],
    parallelism: row.shape.parallelism,
    rungEpochs: row.shape.rungEpochs,
    trials: row.params.map((_, trial) => trialView(row, jobs, trial)),
    best: bestOf(row, jobs),
    request: row.request,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
