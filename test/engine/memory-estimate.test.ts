// The submission-time estimate of a run's memory (src/engine/memory-estimate.ts) against what the engine really
// allocates: one epoch and one checkpoint of moderately sized networks on real flights, in this process.
import { describe, expect, it } from 'vitest';
import { createNetwork, estimateTrainingBytes, Trainer, type ModelSpec } from '../../src/engine/index.js';
import { collectGarbage } from '../helpers/memory.js';
import { flights } from '../helpers/tables.js';

const MiB = 1024 * 1024;

/** Per flight: distance (thousands of miles) and hour of departure; target: the delay in minutes. */
function flightColumns() {
  const rows = flights('20k');
  return {
    x: rows.flatMap((r) => [Number(r.distance) / 1000, Number(String(r.date).slice(11, 13))]),
    y: rows.map((r) => Number(r.delay)),
  };
}

/** Dense: one flight -> its delay. Sequence: 16 flights in a row -> the delay of the last. */
const cases: { name: string; spec: ModelSpec; batchSize: number; data: () => { inputs: number[]; targets: number[] } }[] = [
  {
    name: 'dense 2 -> 1024 -> 1024 -> 1',
    spec: {
      inputSize: 2,
      layers: [
        { type: 'dense', units: 1024, activation: 'relu' },
        { type: 'dense', units: 1024, activation: 'relu' },
        { type: 'dense', units: 1, activation: 'linear' },
      ],
      loss: 'meanSquaredError',
    },
    batchSize: 4096,
    data: () => {
      const { x, y } = flightColumns();
      return { inputs: x, targets: y };
    },
  },
  {
    name: 'lstm 128 over 16 steps -> 1',
    spec: { inputSize: 2, sequenceLength: 16, layers: [{ type: 'lstm', units: 128 }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' },
    batchSize: 1024,
    data: () => {
      const { x, y } = flightColumns();
      const inputs: number[] = [];
      const targets: number[] = [];
      for (let end = 16; end <= y.length; end += 4) {
        inputs.push(...x.slice((end - 16) * 2, end * 2));
        targets.push(y[end - 1]);
      }
      return { inputs, targets };
    },
  },
];

describe('training memory estimate', () => {
  it.each(cases)('$name: bounds the memory one epoch and a checkpoint really take, and stays near it', async ({ spec, batchSize, data }) => {
    const { inputs: x, targets: y } = data();
    const rows = y.length;
    const options = { optimizer: { type: 'adam' as const, learningRate: 0.001 }, epochs: 1, batchSize, validationSplit: 0.2, seed: 1 };
    const estimate = estimateTrainingBytes(spec, { rows, batchSize, validationSplit: options.validationSplit, optimizer: options.optimizer });

    await collectGarbage();
    const before = process.memoryUsage();
    const trainer = new Trainer(createNetwork(spec, 1), { inputs: Float32Array.from(x), targets: Float32Array.from(y), rows }, options);
    trainer.runEpoch();
    const checkpoint = JSON.stringify(trainer.checkpoint());
    const after = process.memoryUsage();
    const rss = after.rss - before.rss;
    const arrayBuffers = after.arrayBuffers - before.arrayBuffers;
    console.log(`estimate ${(estimate / MiB).toFixed(1)} MiB; growth: rss ${(rss / MiB).toFixed(1)} MiB, arrayBuffers ${(arrayBuffers / MiB).toFixed(1)} MiB (checkpoint ${(checkpoint.length / MiB).toFixed(1)} MiB of text)`);

    expect(estimate).toBeGreaterThanOrEqual(rss);
    expect(estimate).toBeGreaterThanOrEqual(arrayBuffers);
    // An upper bound that refused everything would be useless: it stays within a small factor of what was used.
    expect(estimate).toBeLessThan(4 * Math.max(rss, arrayBuffers));
  });
});
