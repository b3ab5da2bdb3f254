import { z } from 'zod';

export const activationSchema = z.enum(['linear', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'softmax']);
export const lossSchema = z.enum(['meanSquaredError', 'binaryCrossEntropy', 'categoricalCrossEntropy']);

export const MAX_LAYER_UNITS = 4096;

const unitsSchema = z.number().int().min(1).max(MAX_LAYER_UNITS);

export const denseLayerSchema = z.strictObject({
  type: z.literal('dense'),
  units: unitsSchema,
  activation: activationSchema,
  kernelInitializer: z.enum(['glorotUniform', 'heNormal']).optional(),
});

export const recurrentLayerSchema = z
  .strictObject({
    type: z.enum(['rnn', 'lstm', 'gru']),
    units: unitsSchema,
    activation: activationSchema.optional().describe('Default tanh; softmax is refused (not elementwise)'),
    returnSequences: z
      .boolean()
      .optional()
      .describe(
        'Output every step instead of the last one (default false). Required on a recurrent layer that feeds another; on ' +
          'the last recurrent layer it makes the dense layers run on every step, for datasets with per-step targets',
      ),
  })
  .describe(
    'rnn: Elman layer; lstm: LSTM (Keras gate order); gru: GRU (Keras gate order update, reset, candidate, reset_after ' +
      'false as TensorFlow.js computes it). Recurrent layers come first, before every dense layer',
  );

export const dropoutLayerSchema = z
  .strictObject({
    type: z.literal('dropout'),
    rate: z.number().min(0).lt(1).describe('Fraction of values zeroed while training, in [0, 1)'),
  })
  .describe(
    'Inverted dropout: while training each value is zeroed with probability rate and the others are scaled by 1 / (1 - rate) ' +
      '(masks from the job seed); the identity at predict. Follows a dense or recurrent layer and feeds a dense layer',
  );

export const layerSchema = z.discriminatedUnion('type', [denseLayerSchema, recurrentLayerSchema, dropoutLayerSchema]);
export type LayerBody = z.infer<typeof layerSchema>;

/** The model as clients send it: the input width (and, for sequence datasets, the sequence length) come from the dataset. */
export const modelSpecBodySchema = z
  .strictObject({
    layers: z
      .array(layerSchema)
      .min(1)
      .max(32)
      .describe(
        'Optional rnn/lstm/gru layers (sequence datasets only, and required for them), then dense layers, with dropout ' +
          'layers before dense ones if wanted; the last layer is dense. At most MODEL_MAX_PARAMETERS weights and biases in all',
      ),
    loss: lossSchema,
  })
  .meta({ id: 'ModelSpec' });
export type ModelSpecBody = z.infer<typeof modelSpecBodySchema>;

/** The spec as stored with a job and its model: the client's layers plus what the dataset decides. */
export const storedModelSpecSchema = modelSpecBodySchema.extend({
  inputSize: z.number().int().describe('Features per row, or per step for sequence models'),
  sequenceLength: z.number().int().optional().describe('Steps per sequence, for models with recurrent layers'),
});
export type StoredModelSpec = z.infer<typeof storedModelSpecSchema>;
