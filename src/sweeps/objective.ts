// A trial's figure of merit, read from what its job and model already store: no evaluation is run for it.
import type { Evaluation } from '../contracts/evaluation.js';
import type { Objective } from '../contracts/sweeps.js';

/** What a validation objective needs of a trial's settings, or null when they fit. */
export function validationProblem(objective: Objective, validationSplit: number): string | null {
  if ((objective === 'valLoss' || objective === 'valAccuracy') && validationSplit === 0) {
    return `${objective} needs validation rows: training.validationSplit must be above 0 in base and in every value the space gives it`;
  }
  return null;
}

/** What the objective needs of the dataset's target, or null when it fits. */
export function objectiveProblem(objective: Objective, classification: boolean): string | null {
  const forClasses = objective === 'valAccuracy' || objective === 'accuracy' || objective === 'logLoss' || objective === 'macroF1' || objective === 'weightedF1';
  const forNumbers = objective === 'rmse' || objective === 'mae' || objective === 'r2';
  if (forClasses && !classification) return `${objective} is a classification figure, and the dataset's target is numeric; use valLoss, rmse, mae or r2`;
  if (forNumbers && classification) return `${objective} is a regression figure, and the dataset's target is a class; use valLoss, valAccuracy, accuracy, logLoss, macroF1 or weightedF1`;
  return null;
}

const mean = (values: (number | null)[]): number | null => {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
};

/** The objective of a succeeded trial job: its last epoch's validation figures, or its model's evaluation. */
export function objectiveOf(
  objective: Objective,
  job: { valLoss: number | null; valAccuracy: number | null },
  evaluation: Evaluation | null,
): number | null {
  if (objective === 'valLoss') return job.valLoss;
  if (objective === 'valAccuracy') return job.valAccuracy;
  if (!evaluation) return null;
  if (evaluation.kind === 'classification') {
    if (objective === 'accuracy' || objective === 'logLoss' || objective === 'macroF1' || objective === 'weightedF1') return evaluation[objective];
    return null;
  }
  if (objective === 'rmse' || objective === 'mae' || objective === 'r2') return mean(evaluation.targets.map((t) => t[objective]));
  return null;
}
