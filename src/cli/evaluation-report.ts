// A model's evaluation (GET /v1/models/:id, POST /v1/models/:id/evaluate) as text: accuracy, F1, per-class figures
// and the confusion matrix for a classifier; MAE, RMSE and R² per target for a regression.
import type { ClassificationEvaluation, Evaluation, RegressionEvaluation } from '../contracts/evaluation.js';
import { formatFigure, formatPercent, formatTable } from './text-table.js';

const ROWS_EVALUATED: Record<Evaluation['on'], string> = {
  validation: 'validation rows',
  training: 'training rows (the job kept no validation rows)',
  dataset: 'rows of the dataset',
};

export function formatEvaluation(evaluation: Evaluation): string {
  const head = `evaluation on ${evaluation.rows} ${ROWS_EVALUATED[evaluation.on]}:\n`;
  const body = evaluation.kind === 'classification' ? classification(evaluation) : regression(evaluation);
  return head + body + unseenCategories(evaluation);
}

function classification(e: ClassificationEvaluation): string {
  const figures = [
    `accuracy ${formatPercent(e.accuracy)}`,
    `macro F1 ${e.macroF1.toFixed(3)}`,
    `weighted F1 ${e.weightedF1.toFixed(3)}`,
    `log loss ${formatFigure(e.logLoss)}`,
    e.rocAuc !== null ? `ROC AUC ${e.rocAuc.toFixed(3)}` : '',
  ].filter(Boolean);
  const perClass = [
    ['class', 'precision', 'recall', 'F1', 'support'],
    ...e.perClass.map((c) => [c.label, c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), String(c.support)]),
  ];
  // Row = actual class, column = predicted class, as the API orders them.
  const matrix = [['actual \\ predicted', ...e.labels], ...e.labels.map((label, i) => [label, ...e.confusionMatrix[i].map(String)])];
  return (
    `  ${figures.join(', ')}\n` +
    formatTable(perClass, [false, true, true, true, true]) +
    '  confusion matrix (rows: actual class, columns: predicted class)\n' +
    formatTable(matrix, [false, ...e.labels.map(() => true)])
  );
}

function regression(e: RegressionEvaluation): string {
  const rows = [
    ['target', 'MAE', 'RMSE', 'R²', 'mean'],
    ...e.targets.map((t) => [t.name, formatFigure(t.mae), formatFigure(t.rmse), t.r2 === null ? '–' : t.r2.toFixed(4), formatFigure(t.mean)]),
  ];
  return formatTable(rows, [false, true, true, true, true]);
}

function unseenCategories(e: Evaluation): string {
  if (!e.unseenCategories?.length) return '';
  const list = e.unseenCategories.map((u) => `${u.column} "${u.value}" (${u.rows} row${u.rows === 1 ? '' : 's'})`);
  return `  values not seen in training (scored as the column's "other" category): ${list.join(', ')}\n`;
}
