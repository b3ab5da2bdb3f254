import { z } from 'zod';
import { pageOf, pageQuerySchema } from './common.js';
import { jobErrorSchema, jobStatusSchema } from './jobs.js';
import { modelSpecBodySchema } from './model-spec.js';
import { DEFAULT_PREPROCESSING, preprocessingBodySchema } from './preprocessing.js';
import { trainingSchema } from './training.js';

export const sweepStrategySchema = z
  .enum(['grid', 'random', 'halving'])
  .describe(
    'grid: every combination of the choices; random: `trials` draws from the space, seeded by base.training.seed; ' +
      'halving: successive halving over `trials` draws: all train for a few epochs, the best 1/eta go on with eta times ' +
      'as many, up to base.training.epochs',
  );
export type SweepStrategy = z.infer<typeof sweepStrategySchema>;

/** What a trial is judged by, and which way is better. */
export const OBJECTIVES = {
  valLoss: 'min',
  valAccuracy: 'max',
  accuracy: 'max',
  logLoss: 'min',
  macroF1: 'max',
  weightedF1: 'max',
  rmse: 'min',
  mae: 'min',
  r2: 'max',
} as const;
export type Objective = keyof typeof OBJECTIVES;
export const objectiveSchema = z
  .enum(Object.keys(OBJECTIVES) as [Objective, ...Objective[]])
  .describe(
    'valLoss (lower is better) and valAccuracy (higher) are the last epoch\'s; accuracy, logLoss, macroF1, weightedF1 ' +
      '(classification) and rmse, mae, r2 (regression, the mean over targets) come from the evaluation stored with each ' +
      "trial's model",
  );

const bound = z.number().min(-1e12).max(1e12);
export const domainSchema = z.union([
  z.strictObject({ choice: z.array(z.unknown()).max(1000).describe('Values to try (any JSON); grid takes only these') }),
  z.strictObject({ uniform: z.tuple([bound, bound]).describe('[low, high): drawn uniformly') }),
  z.strictObject({ logUniform: z.tuple([bound, bound]).describe('[low, high), both > 0: drawn uniformly on a log scale') }),
  z.strictObject({ intRange: z.tuple([z.number().int(), z.number().int()]).describe('Integers from low to high, both included') }),
]);
export type Domain = z.infer<typeof domainSchema>;

/** The settings every trial starts from, as POST /v1/jobs takes them. */
export const sweepBaseSchema = z.strictObject({
  model: modelSpecBodySchema,
  training: trainingSchema.default(trainingSchema.parse({})),
  preprocessing: preprocessingBodySchema.default(DEFAULT_PREPROCESSING),
});
export type SweepBase = z.infer<typeof sweepBaseSchema>;

export const createSweepBodySchema = z
  .strictObject({
    datasetId: z.uuid(),
    base: sweepBaseSchema,
    space: z
      .record(z.string().min(1).max(200), domainSchema)
      .describe(
        'Paths into base ("training.optimizer.learningRate", "model.layers[0].units", "model.layers[1].rate") and what ' +
          'each may take. A path must exist in base (defaults filled in), and every grid point, every draw and both bounds ' +
          'of a range must make a job POST /v1/jobs would accept: else 422 naming body.space.<path>',
      ),
    strategy: sweepStrategySchema,
    trials: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('random and halving: how many configurations to draw (required); grid: the number of grid points if given. At most SWEEP_MAX_TRIALS'),
    parallelism: z.number().int().min(1).max(64).default(2).describe('Trials training at once at most, within TENANT_MAX_CONCURRENT_JOBS'),
    objective: objectiveSchema.default('valLoss'),
    halving: z
      .strictObject({ eta: z.number().int().min(2).max(10).default(3).describe('Keep the best 1/eta of each rung, giving them eta times the epochs') })
      .optional()
      .describe('halving only'),
  })
  .meta({ id: 'CreateSweep' });
export type CreateSweepBody = z.infer<typeof createSweepBodySchema>;

export const sweepTrialSchema = z.object({
  trial: z.number().int().describe('The configuration, in the order drawn (grid: first path slowest)'),
  params: z.record(z.string(), z.unknown()).describe('The value of each space path'),
  jobId: z.uuid().nullable().describe('Its latest job (halving: of its highest rung); null until made'),
  rung: z.number().int().describe('halving: how far it got (0 = the first, shortest run); else 0'),
  epochs: z.number().int().describe('Epochs of that job'),
  status: jobStatusSchema.describe('Of that job; queued while not yet made'),
  objective: z.number().nullable().describe('Of that job, once it succeeded'),
  stoppedEarly: z.boolean().describe('halving stopped it: its rung ended and it was not among those promoted'),
});

export const sweepBestSchema = z.object({
  trial: z.number().int(),
  jobId: z.uuid(),
  modelId: z.uuid().nullable(),
  params: z.record(z.string(), z.unknown()),
  epochs: z.number().int(),
  objective: z.number(),
});

export const sweepSchema = z
  .object({
    id: z.uuid(),
    datasetId: z.uuid().nullable(),
    status: jobStatusSchema,
    strategy: sweepStrategySchema,
    objective: objectiveSchema,
    direction: z.enum(['min', 'max']),
    parallelism: z.number().int(),
    rungEpochs: z.array(z.number().int()).describe('Epochs of each rung (one rung unless halving)'),
    trials: z.array(sweepTrialSchema),
    best: sweepBestSchema.nullable().describe('The succeeded trial job with the best objective so far; null before one'),
    request: z.object({ base: sweepBaseSchema, space: z.record(z.string(), domainSchema), trials: z.number().int(), halving: z.object({ eta: z.number().int() }).nullable() }),
    error: jobErrorSchema.nullable(),
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Sweep' });
export type SweepView = z.infer<typeof sweepSchema>;
export type SweepTrialView = z.infer<typeof sweepTrialSchema>;

export const sweepQueuedSchema = sweepSchema;
export const listSweepsQuerySchema = pageQuerySchema.extend({ status: jobStatusSchema.optional() });
export const sweepListSchema = pageOf(sweepSchema);
