// The sweeps panel: the tenant's sweeps, and for the one picked its trials as a table sorted by the objective and
// the objective of every trial against the sweep's main parameter (its first numeric path), redrawn every few
// seconds while the sweep runs. A trial's row opens its job in the training panel.
import uPlot from './vendor/uPlot.esm.js';
import { element, table } from './dom.js';

const REFRESH_MS = 2000;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const TRIAL = '#2563eb';
const STOPPED = '#9ca3af';

const figure = (x) => (x == null ? '–' : x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(Number(x.toPrecision(4))) : x.toExponential(2));
const tick = (x) => (x == null ? '' : figure(x));
const value = (v) => (typeof v === 'number' ? figure(v) : JSON.stringify(v));

/**
 * The path the chart plots along x: the first whose trial values are all numbers; on a log scale for a logUniform
 * range, or positive values spanning two decades (learning rates chosen by hand).
 */
function mainParameter(sweep) {
  for (const [path, domain] of Object.entries(sweep.request.space)) {
    const values = sweep.trials.map((t) => t.params[path]);
    if (!values.every((v) => typeof v === 'number')) continue;
    const spread = Math.min(...values) > 0 && Math.max(...values) / Math.min(...values) >= 100;
    return { path, log: 'logUniform' in domain || spread };
  }
  return null;
}

/** Trials best first by the objective; those without one (not finished, failed) last, in trial order. */
export function sortedTrials(sweep) {
  const sign = sweep.direction === 'min' ? 1 : -1;
  return [...sweep.trials].sort((a, b) => (a.objective == null) - (b.objective == null) || sign * ((a.objective ?? 0) - (b.objective ?? 0)) || a.trial - b.trial);
}

export class SweepsView {
  constructor({ api, root, list, empty, onSelectJob, onError }) {
    Object.assign(this, { api, root, list, empty, onSelectJob, onError });
    this.selected = null;
    this.timer = 0;
    this.chart = null;
  }

  async refresh() {
    try {
      const { items } = await this.api('/v1/sweeps?limit=20');
      this.empty.hidden = items.length > 0;
      this.list.replaceChildren(
        ...items.map((s) =>
          element('option', { value: s.id, textContent: `${s.id.slice(0, 8)} · ${s.strategy} · ${s.status}`, selected: s.id === this.selected }),
        ),
      );
      if (!this.selected && items.length) this.select(items[0].id);
    } catch (err) {
      this.onError(`Sweeps: ${err.message}`);
    }
  }

  select(id) {
    this.selected = id;
    clearTimeout(this.timer);
    this.load();
  }

  async load() {
    const id = this.selected;
    if (!id) return;
    try {
      const sweep = await this.api(`/v1/sweeps/${id}`);
      if (id !== this.selected) return;
      this.render(sweep);
      if (!FINISHED.has(sweep.status)) this.timer = setTimeout(() => this.load(), REFRESH_MS);
    } catch (err) {
      this.onError(`Sweep: ${err.message}`);
    }
  }

  reset() {
    clearTimeout(this.timer);
    this.selected = null;
    this.chart?.destroy();
    this.chart = null;
    this.list.replaceChildren();
    this.root.replaceChildren();
    this.empty.hidden = false;
  }

  render(sweep) {
    const main = mainParameter(sweep);
    const best = sweep.best
      ? `best ${sweep.objective} ${figure(sweep.best.objective)} (trial ${sweep.best.trial}, ${sweep.best.epochs} epochs)`
      : 'no trial finished yet';
    const summary = element('p', { className: 'hint', textContent: `${sweep.status} · ${sweep.trials.length} ${sweep.strategy} trials · ${best}` });
    const chartBox = element('div', { className: 'chart sweep-chart' });
    const rows = sortedTrials(sweep).map((t) => [
      { text: String(t.trial), header: true },
      t.objective == null ? '–' : figure(t.objective),
      String(t.epochs),
      t.stoppedEarly ? 'stopped early' : t.status,
      ...Object.keys(t.params).map((p) => value(t.params[p])),
    ]);
    const paths = Object.keys(sweep.trials[0]?.params ?? {});
    const trials = table('sweep-trials', ['trial', sweep.objective, 'epochs', 'status', ...paths], rows);
    trials.querySelectorAll('tbody tr').forEach((tr, i) => {
      const jobId = sortedTrials(sweep)[i].jobId;
      if (!jobId) return;
      tr.tabIndex = 0;
      tr.addEventListener('click', () => this.onSelectJob(jobId));
    });
    this.chart?.destroy();
    this.chart = null;
    this.root.replaceChildren(summary, ...(main ? [element('figure', {}, [element('figcaption', { textContent: `${sweep.objective} against ${main.path}` }), chartBox])] : []), trials);
    if (main) this.chart = objectiveChart(chartBox, sweep, main);
  }
}

/** One point per trial with an objective: promoted or final ones in blue, those halving stopped in grey. */
function objectiveChart(target, sweep, main) {
  const points = sweep.trials.filter((t) => t.objective != null).sort((a, b) => a.params[main.path] - b.params[main.path]);
  const xs = points.map((t) => t.params[main.path]);
  const series = (label, stroke, keep) => ({
    label,
    stroke,
    paths: () => null,
    points: { show: true, size: 8, fill: stroke },
    value: (_, v) => (v == null ? '–' : figure(v)),
    keep,
  });
  const lines = [series('trial', TRIAL, (t) => !t.stoppedEarly), series('stopped early', STOPPED, (t) => t.stoppedEarly)];
  const data = [xs, ...lines.map((s) => points.map((t) => (s.keep(t) ? t.objective : null)))];
  return new uPlot(
    {
      width: Math.max(target.clientWidth, 280),
      height: 220,
      scales: { x: { time: false, distr: main.log ? 3 : 1 } },
      // A log axis hands null for the ticks it leaves unlabelled.
      axes: [{ label: main.path, values: (_, ticks) => ticks.map(tick) }, { label: sweep.objective, size: 60, values: (_, ticks) => ticks.map(tick) }],
      series: [{ label: main.path, value: (_, v) => (v == null ? '–' : figure(v)) }, ...lines],
      legend: { live: true },
    },
    data,
    target,
  );
}
