import { z } from 'zod';

const learningRate = z.number().positive().max(10);

export const optimizerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('sgd'),
    learningRate: learningRate.default(0.01),
    momentum: z.number().min(0).max(1).default(0),
    nesterov: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('adam'),
    learningRate: learningRate.default(0.001),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
  }),
]);

export const earlyStoppingSchema = z.strictObject({
  patience: z.number().int().min(1).max(10_000),
  minDelta: z.number().min(0).default(0),
  restoreBestWeights: z.boolean().default(false),
});

const epochCount = z.number().int().min(1).max(1_000_000);

export const scheduleSchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({ type: z.literal('step'), every: epochCount, factor: z.number().positive().max(1) })
      .describe('learningRate x factor^floor(epoch / every)'),
    z.strictObject({ type: z.literal('exponential'), rate: z.number().positive().max(1) }).describe('learningRate x rate^epoch'),
    z
      .strictObject({
        type: z.literal('cosine'),
        decayEpochs: epochCount,
        warmupEpochs: z.number().int().min(0).max(1_000_000).default(0),
        minFactor: z.number().min(0).max(1).default(0),
      })
      .describe(
        'A linear warm-up to learningRate over warmupEpochs, then a cosine from learningRate down to learningRate x minFactor ' +
          'over decayEpochs, held there after',
      ),
    z
      .strictObject({
        type: z.literal('plateau'),
        patience: epochCount,
        factor: z.number().positive().lt(1),
        minDelta: z.number().min(0).default(0),
        minRate: z.number().min(0).default(0),
      })
      .describe(
        'Reduce on plateau: the rate times factor after patience epochs in which the validation loss (the training loss ' +
          'without a validation split) did not improve by minDelta, never below minRate',
      ),
  ])
  .describe('How the learning rate changes from epoch to epoch (epoch counted from 0); each epoch records the rate it used')
  .meta({ id: 'LearningRateSchedule' });

/** Absolute ceiling on epochs (the engine's); TRAINING_MAX_EPOCHS (at most this) is the limit in force. */
export const EPOCHS_CEILING = 1_000_000;
/** No sequence is longer: the engine bounds steps x features per sequence by 2^20. */
const MAX_SEQUENCE_STEPS = 1 << 20;

/** Loss weights per class, for imbalanced classes: 'balanced', or a weight per class label. */
export const classWeightsSchema = z.union([z.literal('balanced'), z.record(z.string(), z.number().positive().max(1e6))]);
export type ClassWeights = z.infer<typeof classWeightsSchema>;

export const trainingSchema = z
  .strictObject({
    optimizer: optimizerSchema.default({ type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
    epochs: z.number().int().min(1).max(EPOCHS_CEILING).default(50).describe('At most TRAINING_MAX_EPOCHS (default 10,000)'),
    batchSize: z.number().int().min(1).max(65_536).default(32),
    validationSplit: z.number().min(0).lt(1).default(0.2),
    earlyStopping: earlyStoppingSchema.optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional().describe('Random when omitted; stored with the job'),
    checkpointEvery: z.number().int().min(1).max(10_000).default(10).describe('Epochs between checkpoints'),
    weightDecay: z.number().min(0).optional(),
    clipNorm: z
      .number()
      .positive()
      .optional()
      .describe('Clip the global gradient norm of each batch. Default: off for dense networks, 5 for networks with recurrent layers'),
    bpttSteps: z
      .number()
      .int()
      .min(1)
      .max(MAX_SEQUENCE_STEPS)
      .optional()
      .describe(
        'Truncated backpropagation through time: gradients flow back at most this many steps (counted back from the last ' +
          'step). Default: none, the whole sequence. Only for models with recurrent layers (else 422)',
      ),
    shuffle: z.boolean().default(true),
    schedule: scheduleSchema.optional(),
    classWeights: classWeightsSchema
      .optional()
      .describe(
        'Classification only (else 422): weights the loss of each row by its class. "balanced" gives each class ' +
          'n_train / (classes x n_class), counted over the training rows as scikit-learn does (every class then weighs ' +
          'as much in total; a class absent from the training rows weighs 1); a map gives a class label its weight, ' +
          'absent labels weigh 1, and a label that is not a class of the dataset is refused (422). The validation ' +
          'loss, hence early stopping, is weighted the same way',
      ),
  })
  .meta({ id: 'Training' });
export type Training = z.infer<typeof trainingSchema>;
