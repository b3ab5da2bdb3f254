// Turns POST /v1/sweeps into its trials, each checked as POST /v1/jobs would check it. Every configuration is drawn
// here, once (grid points, or seeded draws), and every one must make a valid job, as must both ends of every range:
// a sweep that is accepted never meets a trial the worker cannot train. Refusals are 422s naming the space path.
import { randomInt } from 'node:crypto';
import type { Training } from '../contracts/training.js';
import type { StoredPreprocessing } from '../contracts/preprocessing.js';
import type { ModelSpecBody } from '../contracts/model-spec.js';
import { sweepBaseSchema, type CreateSweepBody, type Domain, type SweepBase } from '../contracts/sweeps.js';
import { widestEncoding } from '../data/encoding.js';
import type { DatasetRepository } from '../db/datasets.js';
import { objectiveProblem, validationProblem } from '../sweeps/objective.js';
import { halvingRungs } from '../sweeps/schedule.js';
import { boundsOf, domainProblem, gridPoints, gridSize, hasPath, parsePath, randomPoints, substitute, type Params } from '../sweeps/space.js';
import { ApiError, Errors } from './errors.js';
import { checkClassWeights, checkModelFitsDataset, countParameters, type ModelLimits } from './routes/job-validation.js';

export type DatasetDetail = NonNullable<Awaited<ReturnType<DatasetRepository['get']>>>;

/** One configuration, as the job it makes (before its rung sets the epochs). */
export interface PlannedTrial {
  params: Params;
  model: ModelSpecBody & { inputSize: number; sequenceLength?: number };
  training: Training & { seed: number };
  preprocessing: StoredPreprocessing;
  modelBytes: number;
}

export interface SweepPlan {
  base: SweepBase;
  trials: PlannedTrial[];
  rungEpochs: number[];
  eta: number;
}

export interface SweepLimits extends ModelLimits {
  /** SWEEP_MAX_TRIALS */
  maxTrials: number;
}

const ROOTS = new Set(['model', 'training', 'preprocessing']);

const refuse = (field: string, message: string, extra: object = {}) => Errors.UNPROCESSABLE(`${field}: ${message}`, { field, ...extra });

/** ['model', 'layers', 0] -> 'model.layers[0]' */
const formatPath = (parts: PropertyKey[]) =>
  parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

/** The job one configuration makes, checked as POST /v1/jobs checks a job; throws ApiErrors naming base fields. */
function jobOf(settings: unknown, dataset: DatasetDetail, objective: CreateSweepBody['objective'], limits: ModelLimits): Omit<PlannedTrial, 'params'> {
  const parsed = sweepBaseSchema.safeParse(settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = formatPath(issue.path);
    throw Errors.UNPROCESSABLE(`${field}: ${issue.message}`, { field });
  }
  const { model, training, preprocessing } = parsed.data;
  if (training.epochs > limits.maxEpochs) {
    throw refuse('training.epochs', `expected at most ${limits.maxEpochs} (TRAINING_MAX_EPOCHS), got ${training.epochs}`, { limit: limits.maxEpochs });
  }
  checkClassWeights(training.classWeights, dataset.classes);
  const problem = validationProblem(objective, training.validationSplit);
  if (problem) throw refuse('training.validationSplit', problem);
  const featureColumns = dataset.columns.filter((c) => c.role === 'feature');
  const inputSize = widestEncoding(featureColumns, preprocessing);
  const sequence = dataset.sequenceLength === undefined ? {} : { sequenceLength: dataset.sequenceLength };
  const spec = { inputSize, ...sequence, ...model };
  const seeded = { ...training, seed: training.seed! };
  checkModelFitsDataset(spec, seeded, dataset, limits);
  return { model: spec, training: seeded, preprocessing, modelBytes: countParameters(spec) * Float32Array.BYTES_PER_ELEMENT };
}

/** The space path a refusal of `field` comes from: the one that contains it or that it contains, else the first. */
function pathAtFault(field: string, params: Params): string {
  const paths = Object.keys(params);
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return paths.find((p) => within(field, p) || within(p, field)) ?? paths[0];
}

/** A job check of a configuration, its refusal renamed to the space path (or to base, for base itself). */
function check(base: SweepBase, params: Params, dataset: DatasetDetail, body: CreateSweepBody, limits: ModelLimits, trial?: number): Omit<PlannedTrial, 'params'> {
  try {
    return jobOf(substitute(base, params), dataset, body.objective, limits);
  } catch (err) {
    if (!(err instanceof ApiError) || err.statusCode >= 500) throw err;
    const cause = err.details as { field?: string } | undefined;
    const causeField = cause?.field ?? 'model';
    if (Object.keys(params).length === 0) {
      throw new ApiError(err.code, err.statusCode, `body.base.${err.message}`, { ...(err.details as object), field: `body.base.${causeField}` });
    }
    const path = pathAtFault(causeField, params);
    const field = `body.space.${path}`;
    const what = trial === undefined ? `the value ${JSON.stringify(params[path])}` : `trial ${trial} (${JSON.stringify(params)})`;
    throw Errors.UNPROCESSABLE(`${field}: ${what} makes a job that is refused: ${err.message}`, {
      field,
      value: params[path],
      ...(trial === undefined ? {} : { trial, params }),
      cause: { code: err.code, field: causeField },
    });
  }
}

function checkSpace(base: SweepBase, body: CreateSweepBody): void {
  const paths = Object.keys(body.space);
  if (paths.length === 0) throw refuse('body.space', 'expected at least one path to vary');
  for (const [path, domain] of Object.entries(body.space)) {
    const field = `body.space.${path}`;
    const parts = parsePath(path);
    if (!parts || !ROOTS.has(String(parts[0]))) {
      throw refuse(field, 'expected a path into base: model., training. or preprocessing., then names and [index]es, e.g. model.layers[0].units');
    }
    if (!hasPath(base, parts)) {
      throw refuse(field, 'not in base (with its defaults filled in): set a value there first, or check the layer index and spelling');
    }
    if (body.strategy === 'halving' && path === 'training.epochs') throw refuse(field, 'halving sets the epochs of each rung itself (base.training.epochs is the last rung\'s)');
    const problem = domainProblem(domain as Domain, body.strategy);
    if (problem) throw refuse(field, problem);
  }
}

function trialCount(body: CreateSweepBody, maxTrials: number): number {
  if (body.strategy === 'grid') {
    const size = gridSize(body.space);
    if (size > maxTrials) throw refuse('body.space', `the grid has ${size} points, more than ${maxTrials} (SWEEP_MAX_TRIALS)`, { limit: maxTrials, points: size });
    if (body.trials !== undefined && body.trials !== size) throw refuse('body.trials', `the grid has ${size} points; leave trials out or send ${size}`);
    return size;
  }
  if (body.trials === undefined) throw Errors.VALIDATION(`body.trials: required for ${body.strategy} sweeps (how many configurations to draw)`, { field: 'body.trials' });
  if (body.trials > maxTrials) throw refuse('body.trials', `expected at most ${maxTrials} (SWEEP_MAX_TRIALS), got ${body.trials}`, { limit: maxTrials });
  return body.trials;
}

export function planSweep(body: CreateSweepBody, dataset: DatasetDetail, limits: SweepLimits): SweepPlan {
  if (body.halving && body.strategy !== 'halving') throw refuse('body.halving', `only for halving sweeps; this one is ${body.strategy}`);
  const seed = body.base.training.seed ?? randomInt(0, 2 ** 31);
  const base: SweepBase = { ...body.base, training: { ...body.base.training, seed } };
  const problem = objectiveProblem(body.objective, dataset.classes !== undefined);
  if (problem) throw refuse('body.objective', problem);
  check(base, {}, dataset, body, limits);
  checkSpace(base, body);
  const count = trialCount(body, limits.maxTrials);
  for (const [path, domain] of Object.entries(body.space)) {
    for (const bound of boundsOf(domain) ?? []) check(base, { [path]: bound }, dataset, body, limits);
  }
  const points = body.strategy === 'grid' ? gridPoints(body.space) : randomPoints(body.space, count, seed);
  const trials = points.map((params, trial) => ({ params, ...check(base, params, dataset, body, limits, trial) }));
  const eta = body.halving?.eta ?? 3;
  const rungEpochs = body.strategy === 'halving' ? halvingRungs(count, eta, base.training.epochs) : [base.training.epochs];
  return { base, trials, rungEpochs, eta };
}
