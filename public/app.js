// The training dashboard: jobs, live loss and accuracy curves, the model's evaluation and its dataset's columns,
// starting jobs and predicting. Talks to the API on the page's own origin with the key from localStorage in the
// Authorization header.
import { TrainingCharts } from './charts.js';
import { element } from './dom.js';
import { openEventStream } from './event-stream.js';
import { datasetView, evaluationView } from './reports.js';
import { SweepsView } from './sweeps.js';

const KEY_STORAGE = 'backprop.apiKey';
const JOBS_REFRESH_MS = 2000;
const POLL_MS = 1000;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

const EXAMPLE_SPEC = {
  model: {
    layers: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossEntropy',
  },
  training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 100, batchSize: 16, validationSplit: 0.2 },
  preprocessing: { standardize: true },
};

const $ = (id) => document.getElementById(id);
const state = { apiKey: localStorage.getItem(KEY_STORAGE) ?? '', jobs: [], selected: null, jobsTimer: 0 };

// ---- API ----

class ApiError extends Error {}

async function api(path, { method = 'GET', json } = {}) {
  const headers = { authorization: `Bearer ${state.apiKey}`, accept: 'application/json' };
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const error = body?.error;
    throw new ApiError(error ? `${error.code}: ${error.message}` : `HTTP ${res.status}`);
  }
  return body;
}

function showMessage(text, kind = 'error') {
  const el = $('message');
  el.textContent = text;
  el.className = `message ${kind}`;
  el.hidden = !text;
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

// ---- formatting ----

const formatLoss = (x) => (x == null ? '–' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(2));
const formatPercent = (x) => (x == null ? '–' : `${(x * 100).toFixed(1)}%`);

function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Seconds left at the pace since the job started; the event stream's own estimate wins when there is one. */
function etaOf(job) {
  if (job.status !== 'running') return null;
  if (job.etaSeconds != null) return job.etaSeconds;
  if (!job.startedAt || job.epoch <= 0) return null;
  const elapsed = (Date.now() - Date.parse(job.startedAt)) / 1000;
  return (elapsed / job.epoch) * (job.epochs - job.epoch);
}

function progressBar(epoch, epochs) {
  const bar = element('progress', { max: Math.max(epochs, 1), value: Math.min(epoch, epochs) });
  bar.setAttribute('aria-label', `epoch ${epoch} of ${epochs}`);
  return element('div', { className: 'progress' }, [bar, element('span', { textContent: `${epoch}/${epochs}` })]);
}

// ---- jobs list ----

async function refreshJobs() {
  if (!state.apiKey) return;
  try {
    const { items } = await api('/v1/jobs?limit=50');
    state.jobs = items;
    // The selected job's live figures (from its stream) are fresher than the list's.
    const live = state.selected?.job;
    if (live) state.jobs = items.map((j) => (j.id === live.id ? { ...j, ...live } : j));
    renderJobs();
  } catch (err) {
    showMessage(`Jobs: ${err.message}`);
  }
}

function renderJobs() {
  const rows = state.jobs.map((job) => {
    const tr = element('tr', { tabIndex: 0, className: job.id === state.selected?.id ? 'selected' : '' }, [
      element('td', { className: 'mono', textContent: job.id.slice(0, 8), title: job.id }),
      element('td', {}, [element('span', { className: `badge ${job.status}`, textContent: job.status })]),
      element('td', {}, [progressBar(job.epoch, job.epochs)]),
      element('td', { className: 'num', textContent: formatLoss(job.loss) }),
      element('td', { className: 'num', textContent: formatDuration(etaOf(job)) }),
    ]);
    tr.addEventListener('click', () => selectJob(job.id));
    tr.addEventListener('keydown', (e) => e.key === 'Enter' && selectJob(job.id));
    return tr;
  });
  $('job-rows').replaceChildren(...rows);
  $('jobs-empty').hidden = state.jobs.length > 0;
  $('jobs-empty').textContent = state.apiKey ? 'No jobs yet: start one below.' : 'Paste an API key to see your jobs.';
}

function scheduleJobsRefresh() {
  clearInterval(state.jobsTimer);
  state.jobsTimer = setInterval(() => document.visibilityState === 'visible' && refreshJobs(), JOBS_REFRESH_MS);
}

async function refreshDatasets() {
  try {
    const { items } = await api('/v1/datasets');
    $('datasets').replaceChildren(...items.map((d) => element('option', { value: d.id, label: `${d.name} (${d.rows} rows)` })));
  } catch {
    // Suggestions only: the field still takes any id.
  }
}

// ---- registry: names, versions, aliases ----

/** A version's headline figure: accuracy for classifiers, R² of the first target for regression. */
function versionFigure(evaluation) {
  if (!evaluation) return '–';
  if (evaluation.kind === 'classification') return `accuracy ${formatPercent(evaluation.accuracy)}`;
  const r2 = evaluation.targets[0]?.r2;
  return r2 == null ? '–' : `R² ${r2.toFixed(3)}`;
}

async function refreshRegistry() {
  try {
    const { items } = await api('/v1/registry');
    const names = await Promise.all(items.map((item) => api(`/v1/registry/${encodeURIComponent(item.name)}`)));
    $('registry').replaceChildren(...names.map(registeredModelView));
    $('registry-empty').hidden = names.length > 0;
  } catch (err) {
    showMessage(`Registry: ${err.message}`);
  }
}

/** One name: its aliases, then a row per version (newest first) whose model id fills the Predict form. */
function registeredModelView(registered) {
  const aliasesOf = (version) => Object.entries(registered.aliases).filter(([, v]) => v === version).map(([alias]) => alias);
  const rows = [...registered.versions].reverse().map((v) => {
    const button = element('button', { type: 'button', className: 'link mono', textContent: v.modelId.slice(0, 8), title: `Predict with ${v.modelId}` });
    button.addEventListener('click', () => useModel(v.modelId));
    return element('tr', {}, [
      element('td', { className: 'num', textContent: `v${v.version}` }),
      element('td', {}, aliasesOf(v.version).map((alias) => element('span', { className: 'badge alias', textContent: alias }))),
      element('td', {}, [button]),
      element('td', { textContent: versionFigure(v.evaluation) }),
      element('td', { textContent: new Date(v.createdAt).toLocaleString() }),
    ]);
  });
  const head = element('thead', {}, [element('tr', {}, ['Version', 'Aliases', 'Model', 'Evaluation', 'Registered'].map((h) => element('th', { scope: 'col', textContent: h })))]);
  const aliases = Object.entries(registered.aliases).map(([alias, version]) => `${alias} → v${version}`).join(', ') || 'no aliases';
  return element('section', { className: 'registered-model' }, [
    element('h3', { textContent: `${registered.name} (${aliases})` }),
    element('table', { className: 'registry-versions' }, [head, element('tbody', {}, rows)]),
  ]);
}

// ---- selected job: curves, live ----

function selectJob(id) {
  state.selected?.abort.abort();
  state.selected?.charts.destroy();
  $('job-charts').hidden = false;
  const selected = {
    id,
    job: state.jobs.find((j) => j.id === id) ?? null,
    rows: new Map(),
    abort: new AbortController(),
    charts: new TrainingCharts($('loss-chart'), $('accuracy-chart'), $('accuracy-figure')),
    redraw: 0,
    /** The dataset and model ids whose views were asked for, so each is read once. */
    reported: { datasetId: null, modelId: null },
  };
  state.selected = selected;
  clearReports();
  renderJobs();
  renderSelected();
  followJob(selected).catch((err) => {
    if (!selected.abort.signal.aborted) showMessage(`Job ${id.slice(0, 8)}: ${err.message}`);
  });
}

function addMetrics(selected, rows) {
  for (const row of rows) if (typeof row.epoch === 'number') selected.rows.set(row.epoch, row);
  // Several events can arrive in one frame: draw once per frame.
  if (!selected.redraw) {
    selected.redraw = requestAnimationFrame(() => {
      selected.redraw = 0;
      selected.charts.set([...selected.rows.values()].sort((a, b) => a.epoch - b.epoch));
    });
  }
}

function updateJob(selected, fields) {
  selected.job = { ...(selected.job ?? {}), ...fields };
  if (state.selected !== selected) return;
  state.jobs = state.jobs.map((j) => (j.id === selected.id ? { ...j, ...fields } : j));
  renderJobs();
  renderSelected();
}

/**
 * Live over the event stream when the API has one; the stream is opened before the metrics are read, so no epoch
 * falls between the two (rows are keyed by epoch, so one seen twice is stored once). Without a stream: polling.
 */
async function followJob(selected) {
  const { id, abort } = selected;
  const signal = abort.signal;
  const headers = { authorization: `Bearer ${state.apiKey}` };
  let lastEventId;
  let metricsLoaded = false;
  while (!signal.aborted) {
    const stream = await openEventStream(`/v1/jobs/${id}/events`, lastEventId ? { ...headers, 'last-event-id': lastEventId } : headers, signal).catch(() => null);
    if (!metricsLoaded) {
      const [job, { items }] = await Promise.all([api(`/v1/jobs/${id}`), api(`/v1/jobs/${id}/metrics`)]);
      updateJob(selected, job);
      addMetrics(selected, items);
      metricsLoaded = true;
      if (FINISHED.has(job.status) && !stream) return;
    }
    if (!stream) return pollJob(selected);
    for await (const { event, data, id: eventId } of stream) {
      lastEventId = eventId ?? lastEventId;
      const payload = JSON.parse(data);
      if (event === 'epoch') {
        addMetrics(selected, [payload]);
        updateJob(selected, { status: 'running', ...pick(payload, ['epoch', 'epochs', 'loss', 'valLoss', 'accuracy', 'valAccuracy', 'etaSeconds']) });
      } else if (event === 'status') {
        updateJob(selected, pick(payload, ['status', 'epoch', 'epochs']));
      } else if (event === 'end') {
        updateJob(selected, { ...(await api(`/v1/jobs/${id}`)), etaSeconds: null });
        return;
      }
    }
    // The stream ended without an end event: dropped, or the job ended. Ask, then reconnect from the last event.
    const job = await api(`/v1/jobs/${id}`);
    updateJob(selected, job);
    if (FINISHED.has(job.status)) return;
    await sleep(POLL_MS, signal);
  }
}

async function pollJob(selected) {
  const { id, abort } = selected;
  while (!abort.signal.aborted) {
    const [job, { items }] = await Promise.all([api(`/v1/jobs/${id}`), api(`/v1/jobs/${id}/metrics`)]);
    if (abort.signal.aborted) return;
    addMetrics(selected, items);
    updateJob(selected, job);
    if (FINISHED.has(job.status)) return;
    await sleep(POLL_MS, abort.signal);
  }
}

const pick = (o, keys) => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));

function renderSelected() {
  const selected = state.selected;
  const job = selected?.job;
  $('cancel-job').hidden = !job || FINISHED.has(job.status);
  if (!job) {
    $('job-summary').textContent = selected ? 'Loading…' : 'Select a job to see its loss and accuracy, live while it trains.';
    return;
  }
  loadReports(selected);
  const parts = [
    `Job ${job.id.slice(0, 8)}: ${job.status}, epoch ${job.epoch}/${job.epochs}`,
    `loss ${formatLoss(job.loss)}, validation ${formatLoss(job.valLoss)}`,
  ];
  if (job.accuracy != null || job.valAccuracy != null) parts.push(`accuracy ${formatPercent(job.accuracy)}, validation ${formatPercent(job.valAccuracy)}`);
  const eta = formatDuration(etaOf(job));
  if (eta) parts.push(`about ${eta} left`);
  const summary = [element('span', { textContent: parts.join(' · ') })];
  if (job.error) summary.push(element('span', { className: 'error-text', textContent: ` · ${job.error.code}: ${job.error.message}` }));
  if (job.modelId) {
    const use = element('button', { type: 'button', className: 'link', textContent: `model ${job.modelId.slice(0, 8)}: predict with it` });
    use.addEventListener('click', () => useModel(job.modelId));
    summary.push(element('span', { textContent: ' · ' }), use);
  }
  $('job-summary').replaceChildren(...summary);
}

// ---- selected job: its model's evaluation and its dataset ----

function clearReports() {
  $('reports').hidden = !state.selected;
  $('evaluation').replaceChildren(element('p', { className: 'hint', textContent: 'The model\'s evaluation on its validation rows shows here once the job succeeds.' }));
  $('dataset').replaceChildren();
}

/** Reads the job's dataset once, and its model once it has one; shown only while the job is still selected. */
function loadReports(selected) {
  const { job, reported } = selected;
  const show = (target, parts) => state.selected === selected && $(target).replaceChildren(...parts);
  const failed = (target, what) => (err) => show(target, [element('p', { className: 'error-text', textContent: `${what}: ${err.message}` })]);
  if (job.datasetId && reported.datasetId !== job.datasetId) {
    reported.datasetId = job.datasetId;
    api(`/v1/datasets/${job.datasetId}`).then((dataset) => show('dataset', datasetView(dataset)), failed('dataset', 'Dataset'));
  }
  if (job.modelId && reported.modelId !== job.modelId) {
    reported.modelId = job.modelId;
    api(`/v1/models/${job.modelId}`).then((model) => show('evaluation', evaluationView(model.evaluation)), failed('evaluation', 'Model'));
  } else if (!job.modelId && FINISHED.has(job.status)) {
    show('evaluation', [element('p', { className: 'hint', textContent: `The job ${job.status} without a model.` })]);
  }
}

// ---- forms ----

function parseJsonField(id, what) {
  try {
    return JSON.parse($(id).value);
  } catch (err) {
    throw new ApiError(`${what} is not valid JSON: ${err.message}`);
  }
}

async function startJob(event) {
  event.preventDefault();
  try {
    const spec = parseJsonField('job-spec', 'The spec');
    const { id } = await api('/v1/jobs', { method: 'POST', json: { datasetId: $('dataset-id').value.trim(), ...spec } });
    showMessage(`Job ${id.slice(0, 8)} queued.`, 'info');
    await refreshJobs();
    selectJob(id);
  } catch (err) {
    showMessage(err.message);
  }
}

async function useModel(modelId) {
  $('model-id').value = modelId;
  const inputs = $('predict-inputs');
  if (inputs.value.trim() === '[]' || inputs.value.trim() === '') {
    try {
      const model = await api(`/v1/models/${modelId}`);
      inputs.value = JSON.stringify([exampleRow(model)], null, 2);
    } catch (err) {
      showMessage(`Model: ${err.message}`);
    }
  }
  $('model-id').scrollIntoView({ behavior: 'smooth', block: 'center' });
}

/**
 * A row to start from, keyed by column: the most frequent category, false, or the value a missing number would be
 * imputed with (older models, which carry no column encodings, get 0 for every feature).
 */
function exampleRow(model) {
  const encodings = new Map((model.preprocessing.columns ?? []).map((c) => [c.name, c]));
  const value = (feature) => {
    const c = encodings.get(feature);
    if (c?.type === 'categorical') return c.categories[0] ?? null;
    if (c?.type === 'boolean') return false;
    return c ? Number(c.fill.toPrecision(4)) : 0;
  };
  return Object.fromEntries(model.features.map((f) => [f, value(f)]));
}

async function runPrediction(event) {
  event.preventDefault();
  const output = $('predict-output');
  try {
    const parsed = parseJsonField('predict-inputs', 'The inputs');
    const inputs = Array.isArray(parsed) ? parsed : parsed?.inputs;
    const result = await api(`/v1/models/${encodeURIComponent($('model-id').value.trim())}/predict`, { method: 'POST', json: { inputs } });
    output.textContent = formatPrediction(result);
    output.hidden = false;
    showMessage('');
  } catch (err) {
    output.hidden = true;
    showMessage(`Predict: ${err.message}`);
  }
}

/** Labels first (what a reader looks for), then one line per output row, then one per warning (unseen values). */
function formatPrediction({ outputs, labels, warnings }) {
  const rows = outputs.map((row) => `    ${JSON.stringify(row.map((v) => Number(v.toPrecision(6))))}`).join(',\n');
  const parts = labels ? [`  "labels": ${JSON.stringify(labels)}`] : [];
  parts.push(`  "outputs": [\n${rows}\n  ]`);
  if (warnings?.length) parts.push(`  "warnings": [\n${warnings.map((w) => `    ${JSON.stringify(w)}`).join(',\n')}\n  ]`);
  return `{\n${parts.join(',\n')}\n}`;
}

async function cancelSelected() {
  const id = state.selected?.id;
  if (!id) return;
  try {
    updateJob(state.selected, await api(`/v1/jobs/${id}/cancel`, { method: 'POST' }));
  } catch (err) {
    showMessage(`Cancel: ${err.message}`);
  }
}

const sweeps = new SweepsView({
  api,
  root: $('sweep'),
  list: $('sweep-select'),
  empty: $('sweeps-empty'),
  onSelectJob: (jobId) => (selectJob(jobId), $('job-title').scrollIntoView({ behavior: 'smooth', block: 'start' })),
  onError: (text) => showMessage(text),
});

function useKey(key) {
  state.apiKey = key;
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
  state.selected?.abort.abort();
  state.selected?.charts.destroy();
  state.selected = null;
  state.jobs = [];
  $('job-charts').hidden = true;
  clearReports();
  $('api-key').value = '';
  $('api-key').placeholder = key ? 'saved in this browser' : 'bp_…';
  renderJobs();
  renderSelected();
  $('registry').replaceChildren();
  $('registry-empty').hidden = false;
  sweeps.reset();
  showMessage('');
  if (key) {
    refreshJobs();
    refreshDatasets();
    refreshRegistry();
    sweeps.refresh();
    scheduleJobsRefresh();
  } else {
    clearInterval(state.jobsTimer);
  }
}

// ---- start ----

$('job-spec').value = JSON.stringify(EXAMPLE_SPEC, null, 2);
$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('api-key').value.trim();
  if (value) useKey(value);
});
$('forget-key').addEventListener('click', () => useKey(''));
$('refresh-jobs').addEventListener('click', () => (refreshJobs(), refreshDatasets(), refreshRegistry(), sweeps.refresh()));
$('sweep-select').addEventListener('change', (e) => sweeps.select(e.target.value));
$('cancel-job').addEventListener('click', cancelSelected);
$('job-form').addEventListener('submit', startJob);
$('predict-form').addEventListener('submit', runPrediction);
useKey(state.apiKey);
