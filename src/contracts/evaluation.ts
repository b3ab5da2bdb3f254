import { z } from 'zod';

// Zod 4's z.number() refuses NaN and ±Infinity, so every figure here is finite and survives JSON unchanged.
const fraction = z.number().min(0).max(1);
const count = z.number().int().min(0);

const onSchema = z
  .enum(['validation', 'training', 'dataset'])
  .describe(
    "The rows evaluated: the training job's validation rows, its training rows (when it kept none for validation), or " +
      'the rows of a dataset sent to POST /v1/models/:id/evaluate',
  );

const unseenCategoriesSchema = z
  .array(
    z.object({
      column: z.string().describe('A categorical feature column'),
      value: z.string().describe('A value of that column the model never saw in training'),
      rows: count.describe('Evaluated rows holding that value (encoded as no known category)'),
    }),
  )
  .optional()
  .describe('Categorical values absent from the training data, so the model scored them blind; omitted when there are none');

const classificationSchema = z.object({
  kind: z.literal('classification').describe('A classification model: one predicted class per row'),
  rows: count.describe('Rows evaluated'),
  on: onSchema,
  accuracy: fraction.describe('Share of rows whose predicted class (the most probable; the first on ties) is the actual one'),
  logLoss: z
    .number()
    .min(0)
    .describe('Mean of -ln(probability given to the actual class), each probability clipped to [1e-15, 1 - 1e-15]'),
  labels: z.array(z.string()).describe('The classes, in the order of the confusion matrix rows and columns and of perClass'),
  confusionMatrix: z
    .array(z.array(count))
    .describe('confusionMatrix[i][j]: rows whose actual class is labels[i] and predicted class is labels[j]'),
  perClass: z
    .array(
      z.object({
        label: z.string().describe('The class'),
        precision: fraction.describe('Of the rows predicted as this class, the share that are; 0 when none is predicted'),
        recall: fraction.describe('Of the rows of this class, the share predicted as it; 0 when the class is absent'),
        f1: fraction.describe('Harmonic mean of precision and recall; 0 when both are 0'),
        support: count.describe('Rows whose actual class is this one'),
      }),
    )
    .describe('Per class, in labels order'),
  macroF1: fraction.describe('Unweighted mean of the per-class F1 over all labels, absent classes included'),
  weightedF1: fraction.describe('Mean of the per-class F1 weighted by support'),
  rocAuc: fraction
    .nullable()
    .describe(
      'Two classes only: area under the ROC curve of the probability of labels[1] (the positive class); ' +
        'null for more classes or when one class is absent from the rows',
    ),
  unseenCategories: unseenCategoriesSchema,
});

const regressionSchema = z.object({
  kind: z.literal('regression').describe('A regression model: one or more numbers per row'),
  rows: count.describe('Rows evaluated'),
  on: onSchema,
  targets: z
    .array(
      z.object({
        name: z.string().describe('The target column'),
        mae: z.number().min(0).describe("Mean absolute error, in the target's own units"),
        rmse: z.number().min(0).describe("Root mean squared error, in the target's own units"),
        r2: z
          .number()
          .nullable()
          .describe(
            'Coefficient of determination, 1 - SS_res / SS_tot (negative when worse than predicting the mean); ' +
              'null when the actual values are all equal',
          ),
        mean: z.number().describe('Mean of the actual values, a scale for mae and rmse'),
      }),
    )
    .describe('Per target column, in model output order'),
  unseenCategories: unseenCategoriesSchema,
});

export const evaluationSchema = z
  .discriminatedUnion('kind', [classificationSchema, regressionSchema])
  .describe('How well a model predicts a set of rows whose answers are known')
  .meta({ id: 'Evaluation' });
export type Evaluation = z.infer<typeof evaluationSchema>;
export type ClassificationEvaluation = Extract<Evaluation, { kind: 'classification' }>;
export type RegressionEvaluation = Extract<Evaluation, { kind: 'regression' }>;
export type EvaluatedRows = Evaluation['on'];
