// The selected job's model and data: the model's evaluation (GET /v1/models/:id) and its dataset's columns
// (GET /v1/datasets/:id), as elements for app.js to place.
import { element, table } from './dom.js';

const ROWS_EVALUATED = {
  validation: 'validation rows',
  training: 'training rows (the job kept no validation rows)',
  dataset: 'rows of a dataset',
};

const fixed3 = (x) => x.toFixed(3);
const percent = (x) => `${(x * 100).toFixed(1)}%`;
/** Four significant digits or more, at most four decimals (an exponent only below 0.0001): 0.0123, 250.1, 4202. */
function figure(x) {
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential(2);
  // The magnitude of the rounded value, so 0.99999 reads 1.000 rather than 1.0000.
  const magnitude = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(4))) || 1));
  return x.toFixed(Math.min(4, Math.max(0, 3 - magnitude)));
}
const num = (text) => ({ text, className: 'num' });

/** Labelled figures in a row: [[label, value], ...]. */
function figures(pairs) {
  return element(
    'dl',
    { className: 'figures' },
    pairs.map(([label, value]) => element('div', {}, [element('dt', { textContent: label }), element('dd', { textContent: value })])),
  );
}

/**
 * Row = actual class, column = predicted class (the API's order). Each cell is shaded by its share of the row, so
 * a good model shows a dark diagonal whatever the class sizes.
 */
function confusionMatrix({ labels, confusionMatrix: counts }) {
  const header = ['actual \\ predicted', ...labels.map((l) => num(l))];
  const rows = labels.map((label, i) => {
    const total = counts[i].reduce((a, b) => a + b, 0);
    const cells = counts[i].map((n, j) => ({ text: String(n), className: `num count${i === j ? ' hit' : ''}`, vars: { '--share': total ? (n / total).toFixed(3) : '0' } }));
    return [{ text: label, header: true }, ...cells];
  });
  return table('grid confusion', header, rows, 'Confusion matrix (rows: actual class, columns: predicted class)');
}

function classification(e) {
  const pairs = [
    ['accuracy', percent(e.accuracy)],
    ['macro F1', fixed3(e.macroF1)],
    ['weighted F1', fixed3(e.weightedF1)],
    ['log loss', figure(e.logLoss)],
  ];
  if (e.rocAuc !== null) pairs.push(['ROC AUC', fixed3(e.rocAuc)]);
  const perClass = table(
    'grid per-class',
    ['class', num('precision'), num('recall'), num('F1'), num('support')],
    e.perClass.map((c) => [{ text: c.label, header: true }, num(fixed3(c.precision)), num(fixed3(c.recall)), num(fixed3(c.f1)), num(String(c.support))]),
    'Per class',
  );
  return [figures(pairs), element('div', { className: 'tables' }, [confusionMatrix(e), perClass])];
}

function regression(e) {
  return [
    table(
      'grid regression',
      ['target', num('MAE'), num('RMSE'), num('R²'), num('mean')],
      e.targets.map((t) => [{ text: t.name, header: true }, num(figure(t.mae)), num(figure(t.rmse)), num(t.r2 === null ? '–' : t.r2.toFixed(4)), num(figure(t.mean))]),
      'Errors in the target\'s own units; R² = 1 - SS_res / SS_tot',
    ),
  ];
}

/** The evaluation's elements, or a note when the model has none (imported models). */
export function evaluationView(evaluation) {
  if (!evaluation) return [element('p', { className: 'hint', textContent: 'No evaluation is stored with this model.' })];
  const parts = [element('p', { className: 'hint', textContent: `On ${evaluation.rows} ${ROWS_EVALUATED[evaluation.on]}.` })];
  parts.push(...(evaluation.kind === 'classification' ? classification(evaluation) : regression(evaluation)));
  if (evaluation.unseenCategories?.length) {
    const list = evaluation.unseenCategories.map((u) => `${u.column} "${u.value}" (${u.rows})`).join(', ');
    parts.push(element('p', { className: 'warning-text', textContent: `Values not seen in training, scored as "other": ${list}` }));
  }
  return parts;
}

/** min–max and mean for numbers, the most frequent values for categories. */
function columnSummary(column) {
  if (column.stats) return `${figure(column.stats.min)} – ${figure(column.stats.max)}, mean ${figure(column.stats.mean)}`;
  if (column.categories) {
    const shown = column.categories.slice(0, 4).map((c) => `${c.value} (${c.count})`);
    return shown.join(', ') + (column.categories.length > 4 || column.distinct > 4 ? ', …' : '');
  }
  return '';
}

export function datasetView(dataset) {
  const skipped = dataset.skippedRows.count;
  const summary = [`${dataset.rows} rows`, `${dataset.features.length} features`, `target ${dataset.targets.join(', ')}`];
  if (dataset.classes) summary.push(`${dataset.classes.length} classes`);
  const parts = [element('p', { className: 'hint', textContent: `${dataset.name}: ${summary.join(' · ')}` })];
  if (skipped > 0) parts.push(element('p', { className: 'warning-text', textContent: `${skipped} row${skipped === 1 ? '' : 's'} skipped: ${dataset.skippedRows.reason}` }));
  const rows = dataset.columns.map((c) => [
    { text: c.name, header: true },
    c.type,
    { text: c.role, className: `role ${c.role}` },
    num(String(c.missing)),
    num(c.distinct === undefined ? '' : `${c.distinct}${c.distinctCapped ? '+' : ''}`),
    { text: columnSummary(c), className: 'summary' },
    { text: c.warnings.join('; '), className: 'warning-text' },
  ]);
  parts.push(table('grid columns', ['column', 'type', 'role', num('missing'), num('distinct'), 'values', 'warnings'], rows));
  return parts;
}
