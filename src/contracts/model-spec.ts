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
    type: z.enum(['rnn', 'lstm']),
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
  .describe('rnn: Elman layer; lstm: LSTM (Keras gate order). Recurrent layers come first, before every dense layer');

export const layerSchema = z.discriminatedUnion('type', [denseLayerSchema, recurrentLayerSchema]);
export type LayerBody = z.infer<typeof layerSchema>;

/** The model as clients send it: the input width (and, for sequence datasets, the sequence length) come from the dataset. */
export const modelSpecBodySchema = z
  .strictObject({
    layers: z
      .array(layerSchema)
      .min(1)
      .max(32)
      .describe(
        'Optional rnn/lstm layers (sequence datasets only, and required for them), then dense layers; the last layer is ' +
          'dense. At most MODEL_MAX_PARAMETERS weights and biases in all',
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
