// Loss and accuracy curves with uPlot (vendored from npm by scripts/copy-vendor.mjs).
import uPlot from './vendor/uPlot.esm.js';

const TRAIN = '#2563eb';
const VALIDATION = '#ea580c';
const RATE = '#16a34a';

const formatLoss = (v) => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(1));

/** Training and validation curves; with `rate`, the learning rate of each epoch too, on its own axis at the right. */
function lineChart(target, yLabel, format, rate = false) {
  const series = (label, stroke, dash, fmt = format, scale = 'y') => ({ label, stroke, width: 2, dash, scale, spanGaps: true, value: (_, v) => (v == null ? '–' : fmt(v)) });
  const axes = [{ label: 'epoch' }, { label: yLabel, size: 60, values: (_, ticks) => ticks.map(format) }];
  const lines = [{ label: 'epoch' }, series('training', TRAIN), series('validation', VALIDATION, [6, 4])];
  if (rate) {
    axes.push({ scale: 'rate', side: 1, label: 'learning rate', size: 60, grid: { show: false }, values: (_, ticks) => ticks.map(formatLoss) });
    lines.push(series('learning rate', RATE, [2, 3], formatLoss, 'rate'));
  }
  return new uPlot(
    {
      width: Math.max(target.clientWidth, 280),
      height: 220,
      // The rate's axis starts at 0, so a decay reads as the fraction of the initial rate it is.
      scales: { x: { time: false }, ...(rate ? { rate: { range: (_, __, max) => [0, (max || 1) * 1.1] } } : {}) },
      axes,
      series: lines,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    },
    lines.map(() => []),
    target,
  );
}

/** Two charts fed from one table of epoch rows; set() redraws them from all rows known so far. */
export class TrainingCharts {
  constructor(lossTarget, accuracyTarget, accuracyFigure) {
    this.loss = lineChart(lossTarget, 'loss', formatLoss, true);
    this.accuracy = lineChart(accuracyTarget, 'accuracy', (v) => `${(v * 100).toFixed(0)}%`);
    this.accuracyFigure = accuracyFigure;
    this.resizer = new ResizeObserver(() => this.resize(lossTarget.clientWidth));
    this.resizer.observe(lossTarget);
  }

  /** rows: metric rows ({ epoch, loss, valLoss, accuracy, valAccuracy, learningRate }) sorted by epoch. */
  set(rows) {
    const epochs = rows.map((r) => r.epoch);
    const column = (key) => rows.map((r) => (typeof r[key] === 'number' ? r[key] : null));
    this.loss.setData([epochs, column('loss'), column('valLoss'), column('learningRate')]);
    const hasAccuracy = rows.some((r) => typeof r.accuracy === 'number');
    this.accuracyFigure.hidden = !hasAccuracy;
    if (hasAccuracy) this.accuracy.setData([epochs, column('accuracy'), column('valAccuracy')]);
  }

  resize(width) {
    const w = Math.max(width, 280);
    for (const chart of [this.loss, this.accuracy]) if (chart.width !== w) chart.setSize({ width: w, height: 220 });
  }

  destroy() {
    this.resizer.disconnect();
    this.loss.destroy();
    this.accuracy.destroy();
  }
}
