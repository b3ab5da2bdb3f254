// Sequence datasets for the service tests, drawn from the engine's seeded RNG so every run sees the same data.
import { Rng } from '../../src/engine/index.js';
import { postJob, uploadDataset, type Target } from './jobs.js';

const FREQUENCIES = { slow: 0.3, medium: 0.6, fast: 1.2 } as const;
export const FREQUENCY_CLASSES = Object.keys(FREQUENCIES).sort();

/**
 * Noisy sines sin(ω t + φ) + N(0, 0.1²) with a random phase, labelled by their frequency ω: one value says nothing
 * about ω, the whole sequence does. Classes take turns, so every class has rows / 3 sequences.
 */
export function frequencySequences(rows: number, steps: number, seed: number): { sequences: number[][][]; labels: string[] } {
  const rng = new Rng(seed);
  const names = Object.keys(FREQUENCIES) as (keyof typeof FREQUENCIES)[];
  const sequences: number[][][] = [];
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    const label = names[r % names.length];
    const phase = rng.next() * 2 * Math.PI;
    sequences.push(Array.from({ length: steps }, (_, t) => [Math.sin(FREQUENCIES[label] * t + phase) + 0.1 * rng.normal()]));
    labels.push(label);
  }
  return { sequences, labels };
}

/**
 * Windows of a noisy sine sin(0.4 t + φ) + N(0, 0.1²): the window's values and the value after it. From the last value
 * alone the next is ambiguous (rising or falling?), from the window it is not; the noise alone costs an MSE of 0.01.
 */
export function sineWindows(count: number, window: number, seed: number): { windows: number[][]; next: number[] } {
  const rng = new Rng(seed);
  const windows: number[][] = [];
  const next: number[] = [];
  for (let r = 0; r < count; r++) {
    const phase = rng.next() * 2 * Math.PI;
    const values = Array.from({ length: window + 1 }, (_, t) => Math.sin(0.4 * t + phase) + 0.1 * rng.normal());
    windows.push(values.slice(0, window));
    next.push(values[window]);
  }
  return { windows, next };
}

/** The CSV form: one row per step, a `series` id column; the target `next` is filled in on each window's last row only. */
export function sineCsv(data: { windows: number[][]; next: number[] }): string {
  const lines = ['series,value,next'];
  data.windows.forEach((window, r) => window.forEach((v, t) => lines.push(`s${r},${v},${t === window.length - 1 ? data.next[r] : ''}`)));
  return `${lines.join('\n')}\n`;
}

/** Random bits and, per step, the bit two steps earlier (0 for the first two): a sequence-to-sequence task. */
export function echoSequences(rows: number, steps: number, seed: number): { sequences: number[][][]; targets: number[][][] } {
  const rng = new Rng(seed);
  const sequences: number[][][] = [];
  const targets: number[][][] = [];
  for (let r = 0; r < rows; r++) {
    const bits = Array.from({ length: steps }, () => rng.below(2));
    sequences.push(bits.map((b) => [b]));
    targets.push(bits.map((_, t) => [t >= 2 ? bits[t - 2] : 0]));
  }
  return { sequences, targets };
}

/** A sine regression of 1,000 windows of 20 steps; with `slowSequenceModel` one epoch takes roughly 0.1 s here. */
export async function uploadSlowSequenceDataset(target: Target, key: string): Promise<string> {
  const { windows, next } = sineWindows(1000, 20, 5);
  return uploadDataset(target, key, { name: 'slow-sine', sequences: windows.map((w) => w.map((v) => [v])), targets: next });
}

export const slowSequenceModel = {
  layers: [
    { type: 'lstm', units: 16 },
    { type: 'dense', units: 1, activation: 'linear' },
  ],
  loss: 'meanSquaredError',
} as const;

export const submitSequenceJob = (target: Target, key: string, datasetId: string, epochs: number, extra: object = {}): Promise<string> =>
  postJob(target, key, {
    datasetId,
    model: slowSequenceModel,
    training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs, batchSize: 32, validationSplit: 0, seed: 3, bpttSteps: 10, ...extra },
  });
