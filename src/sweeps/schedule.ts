// Which trial jobs a sweep should have next, from the jobs it already has: pure, so the scheduler that calls it
// (src/db/sweeps.ts, under the sweep's row lock) can run any number of times, in any process, and always asks for
// the same jobs. Successive halving is synchronous: a rung is judged once every job of it has ended, and the best
// 1/eta of its trials train again, from scratch, for eta times the epochs (a promoted trial's result is then
// exactly what the same settings give in a plain job of that many epochs, learning-rate schedule included).
import { OBJECTIVES, type Objective, type SweepStrategy } from '../contracts/sweeps.js';
import type { JobStatus } from '../contracts/jobs.js';

export interface TrialJob {
  trial: number;
  rung: number;
  status: JobStatus;
  /** Once it succeeded; null when its model has no such figure. */
  objective: number | null;
}

export interface SweepShape {
  strategy: SweepStrategy;
  /** How many configurations were drawn. */
  trials: number;
  rungEpochs: number[];
  eta: number;
  parallelism: number;
  objective: Objective;
}

const finished = (s: JobStatus) => s === 'succeeded' || s === 'failed' || s === 'cancelled';

/**
 * Epochs of each rung: the last trains maxEpochs, each rung before it 1/eta of the next; as many rungs as keep at
 * least one trial in the last and a distinct number of epochs in each (at least 1).
 */
export function halvingRungs(trials: number, eta: number, maxEpochs: number): number[] {
  let rungs = 1;
  while (Math.floor(trials / eta ** rungs) >= 1 && Math.floor(maxEpochs / eta ** rungs) >= 1) rungs++;
  return Array.from({ length: rungs }, (_, r) => Math.max(1, Math.round(maxEpochs / eta ** (rungs - 1 - r))));
}

/** How many trials rung r keeps: the first all of them, each next 1/eta of the one before. */
export const rungSize = (shape: SweepShape, rung: number): number => (rung === 0 ? shape.trials : Math.max(1, Math.floor(shape.trials / shape.eta ** rung)));

/** -1 when a is better than b, by the objective's direction; ties go to the earlier trial. */
export function compareObjective(objective: Objective, a: { objective: number; trial: number }, b: { objective: number; trial: number }): number {
  const diff = OBJECTIVES[objective] === 'min' ? a.objective - b.objective : b.objective - a.objective;
  return diff !== 0 ? Math.sign(diff) : a.trial - b.trial;
}

/** The trials of rung `rung` that go on to the next one, best first; null while the rung has unfinished (or unmade) jobs. */
export function promoted(shape: SweepShape, jobs: TrialJob[], rung: number): number[] | null {
  const inRung = jobs.filter((j) => j.rung === rung);
  const expected = rung === 0 ? shape.trials : inRung.length;
  if (inRung.length < expected || inRung.some((j) => !finished(j.status))) return null;
  const judged = inRung.filter((j): j is TrialJob & { objective: number } => j.status === 'succeeded' && j.objective !== null);
  return judged.sort((a, b) => compareObjective(shape.objective, a, b)).slice(0, rungSize(shape, rung + 1)).map((j) => j.trial);
}

/**
 * The jobs to make now, as (trial, rung) in order, so that at most `parallelism` are unfinished; and whether the sweep
 * is over (every job it will ever have exists and has ended).
 */
export function nextJobs(shape: SweepShape, jobs: TrialJob[]): { make: { trial: number; rung: number }[]; done: boolean } {
  const has = new Set(jobs.map((j) => `${j.trial}/${j.rung}`));
  const wanted: { trial: number; rung: number }[] = [];
  for (let trial = 0; trial < shape.trials; trial++) wanted.push({ trial, rung: 0 });
  if (shape.strategy === 'halving') {
    for (let rung = 0; rung + 1 < shape.rungEpochs.length; rung++) {
      const next = promoted(shape, jobs, rung);
      if (next === null) break;
      for (const trial of next) wanted.push({ trial, rung: rung + 1 });
    }
  }
  const missing = wanted.filter((w) => !has.has(`${w.trial}/${w.rung}`));
  const unfinished = jobs.filter((j) => !finished(j.status)).length;
  const room = Math.max(0, shape.parallelism - unfinished);
  const lastRungJudged = shape.strategy !== 'halving' || wanted.some((w) => w.rung === shape.rungEpochs.length - 1) || promotedNone(shape, jobs);
  const done = missing.length === 0 && unfinished === 0 && lastRungJudged;
  return { make: missing.slice(0, room), done };
}

/** A halving sweep whose last judged rung promoted nobody (every trial of it failed) has nothing left to run. */
function promotedNone(shape: SweepShape, jobs: TrialJob[]): boolean {
  for (let rung = 0; rung + 1 < shape.rungEpochs.length; rung++) {
    const next = promoted(shape, jobs, rung);
    if (next === null) return false;
    if (next.length === 0) return true;
  }
  return false;
}
