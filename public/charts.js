// Loss and accuracy curves with uPlot (vendored from npm by scripts/copy-vendor.mjs).
import uPlot from './vendor/uPlot.esm.js';

const TRAIN = '#2563eb';
const VALIDATION = '#ea580c';

const formatLoss = (v) => (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(1));

function lineChart(target, yLabel, format) {
  const series = (label, stroke, dash) => ({ label, stroke, width: 2, dash, spanGaps: true, value: (_, v) => (v == null ? '–' : format(v)) });
  return new uPlot(
    {
      width: Math.max(target.clientWidth, 280),
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: 'epoch' }, { label: yLabel, size: 60, values: (_, ticks) => ticks.map(format) }],
      series: [{ label: 'epoch' }, series('training', TRAIN), series('validation', VALIDATION, [6, 4])],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    },
    [[], [], []],
    target,
  );
}

/** Two charts fed from one table of epoch rows; set() redraws them from all rows known so far. */
export class TrainingCharts {
  constructor(lossTarget, accuracyTarget, accuracyFigure) {
    this.loss = lineChart(lossTarget, 'loss', formatLoss);
    this.accuracy = lineChart(accuracyTarget, 'accuracy', (v) => `${(v * 100).toFixed(0)}%`);
    this.accuracyFigure = accuracyFigure;
    this.resizer = new ResizeObserver(() => this.resize(lossTarget.clientWidth));
    this.resizer.observe(lossTarget);
  }

  /** rows: metric rows ({ epoch, loss, valLoss, accuracy, valAccuracy }) sorted by epoch. */
  set(rows) {
    const epochs = rows.map((r) => r.epoch);
    const column = (key) => rows.map((r) => (typeof r[key] === 'number' ? r[key] : null));
    this.loss.setData([epochs, column('loss'), column('valLoss')]);
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
