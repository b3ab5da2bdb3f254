import { setTimeout as sleep } from 'node:timers/promises';
import { createSweepBodySchema, type SweepView } from '../../contracts/sweeps.js';
import type { ApiClient } from '../api-client.js';
import { CliError } from '../errors.js';
import { readJson } from '../input-files.js';
import { ProgressLine } from '../progress-line.js';
import { formatFigure, formatTable } from '../text-table.js';
import type { Output } from './output.js';

/** The sweep file holds a sweep body without its dataset: { base, space, strategy, trials?, parallelism?, objective?, halving? }. */
const sweepFileSchema = createSweepBodySchema.omit({ datasetId: true });

const POLL_MS = 500;
const ended = (status: string) => status === 'succeeded' || status === 'failed' || status === 'cancelled';

/** "running  5/9 trials ended (2 training, 4 stopped early)  best valLoss 0.0412 (trial 3)" */
export function renderSweepProgress(sweep: SweepView): string {
  const count = (status: string) => sweep.trials.filter((t) => t.status === status).length;
  const done = sweep.trials.filter((t) => ended(t.status) && (t.stoppedEarly || t.rung === sweep.rungEpochs.length - 1 || t.status !== 'succeeded')).length;
  const rung = sweep.rungEpochs.length > 1 ? `  rung ${Math.max(...sweep.trials.map((t) => t.rung)) + 1}/${sweep.rungEpochs.length}` : '';
  const stopped = sweep.trials.filter((t) => t.stoppedEarly).length;
  const detail = [`${count('running')} training`, stopped ? `${stopped} stopped early` : ''].filter(Boolean).join(', ');
  const best = sweep.best ? `  best ${sweep.objective} ${formatFigure(sweep.best.objective)} (trial ${sweep.best.trial})` : '';
  return `${sweep.status}  ${done}/${sweep.trials.length} trials done (${detail})${rung}${best}`;
}

/** Trials sorted by objective, best first; trials without one at the end. */
function trialTable(sweep: SweepView): string {
  const better = sweep.direction === 'min' ? 1 : -1;
  const sorted = [...sweep.trials].sort((a, b) =>
    a.objective === null ? 1 : b.objective === null ? -1 : better * (a.objective - b.objective) || a.trial - b.trial);
  const paths = Object.keys(sweep.trials[0]?.params ?? {});
  const cell = (v: unknown) => (typeof v === 'number' ? formatFigure(v) : JSON.stringify(v));
  const rows = [
    ['trial', sweep.objective, 'epochs', 'status', ...paths],
    ...sorted.map((t) => [String(t.trial), t.objective === null ? '-' : formatFigure(t.objective), String(t.epochs), t.stoppedEarly ? 'stopped early' : t.status, ...paths.map((p) => cell(t.params[p]))]),
  ];
  return formatTable(rows, [true, true, true, false, ...paths.map(() => true)]);
}

/** Starts the sweep, follows it with a progress line, prints the trials on stderr and the best model's id on stdout. */
export async function sweep(client: ApiClient, args: { sweepPath: string; datasetId: string }, out: Output): Promise<void> {
  const file = await readJson(args.sweepPath);
  const checked = sweepFileSchema.safeParse(file);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CliError(`${args.sweepPath} is not a sweep ({ base, space, strategy, trials?, parallelism?, objective?, halving? }):\n${issues.join('\n')}`);
  }
  let view = await client.post<SweepView>('/v1/sweeps', { json: { datasetId: args.datasetId, ...(file as object) } });
  out.stderr.write(`sweep ${view.id}: ${view.trials.length} ${view.strategy} trials, ${view.objective} (${view.direction === 'min' ? 'lower' : 'higher'} is better)\n`);
  const line = new ProgressLine(out.stderr);
  try {
    while (!ended(view.status)) {
      line.show(renderSweepProgress(view), view.status);
      await sleep(POLL_MS);
      view = await client.get<SweepView>(`/v1/sweeps/${view.id}`);
    }
    line.show(renderSweepProgress(view), view.status);
  } finally {
    line.done();
  }
  out.stderr.write(trialTable(view));
  if (view.status === 'failed') throw new CliError(`sweep ${view.id} failed: ${view.error?.code ?? 'ERR_UNKNOWN'}: ${view.error?.message ?? 'no error recorded'}`);
  if (!view.best?.modelId) throw new CliError(`sweep ${view.id} ${view.status} without a best model`);
  out.stderr.write(`best: trial ${view.best.trial}, job ${view.best.jobId}, ${view.objective} ${formatFigure(view.best.objective)}, ${JSON.stringify(view.best.params)}\n`);
  out.stdout.write(`${view.best.modelId}\n`);
}
