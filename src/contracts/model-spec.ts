import { z } from 'zod';

export const activationSchema = z.enum(['linear', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'softmax']);
export const lossSchema = z.enum(['meanSquaredError', 'binaryCrossEntropy', 'categoricalCrossEntropy']);

export const denseLayerSchema = z.object({
  type: z.literal('dense'),
  units: z.number().int().min(1).max(4096),
  activation: activationSchema,
  kernelInitializer: z.enum(['glorotUniform', 'heNormal']).optional(),
});

/** The model as clients send it: the input width is taken from the dataset. */
export const modelSpecBodySchema = z
  .object({
    layers: z.array(denseLayerSchema).min(1).max(32),
    loss: lossSchema,
  })
  .meta({ id: 'ModelSpec' });
export type ModelSpecBody = z.infer<typeof modelSpecBodySchema>;
