import { z } from 'zod';

const learningRate = z.number().positive().max(10);

export const optimizerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('sgd'),
    learningRate: learningRate.default(0.01),
    momentum: z.number().min(0).max(1).default(0),
    nesterov: z.boolean().default(false),
  }),
  z.object({
    type: z.literal('adam'),
    learningRate: learningRate.default(0.001),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
  }),
]);

export const earlyStoppingSchema = z.object({
  patience: z.number().int().min(1).max(10_000),
  minDelta: z.number().min(0).default(0),
  restoreBestWeights: z.boolean().default(false),
});

export const trainingSchema = z
  .object({
    optimizer: optimizerSchema.default({ type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
    epochs: z.number().int().min(1).max(10_000).default(50),
    batchSize: z.number().int().min(1).max(65_536).default(32),
    validationSplit: z.number().min(0).lt(1).default(0.2),
    earlyStopping: earlyStoppingSchema.optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional().describe('Random when omitted; stored with the job'),
    checkpointEvery: z.number().int().min(1).max(10_000).default(10).describe('Epochs between checkpoints'),
    weightDecay: z.number().min(0).optional(),
    clipNorm: z.number().positive().optional(),
    shuffle: z.boolean().default(true),
  })
  .meta({ id: 'Training' });
export type Training = z.infer<typeof trainingSchema>;

export const preprocessingBodySchema = z.object({
  standardize: z.boolean().default(false).describe('Scale every feature to zero mean and unit variance'),
});

/** Preprocessing as stored with a job and its model: the statistics travel with it. */
export const storedPreprocessingSchema = z.object({
  standardize: z.boolean(),
  mean: z.array(z.number()).optional(),
  std: z.array(z.number()).optional(),
});
export type StoredPreprocessing = z.infer<typeof storedPreprocessingSchema>;
