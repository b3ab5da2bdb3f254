// Relaxed SIMD is behind a flag on Node 20; setting it is the host's job, done by every entry point through this.
import '../../src/runtime/wasm-flags.js';
import { describe, expect, it } from 'vitest';
import { createNetwork, Trainer, type ModelSpec, type Network } from '../../src/engine/index.js';
import { createOptimizer } from '../../src/engine/optimizers.js';
import { irisDataset as iris } from '../helpers/iris.js';
import { weightsOf } from '../helpers/determinism.js';

// 4-64-64-3: 4,675 parameters, above the 4,096 from which float32 Adam runs in WebAssembly.
const spec: ModelSpec = {
  inputSize: 4,
  layers: [
    { type: 'dense', units: 64, activation: 'relu' },
    { type: 'dropout', rate: 0.1 },
    { type: 'dense', units: 64, activation: 'relu' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'categoricalCrossEntropy',
};
const options = { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 6, batchSize: 16, seed: 2 } as const;

const buffers = (network: Network) => new Set(network.parameters().map((p) => p.buffer));

describe('Adam in WebAssembly updates the network where it stands', () => {
  it("moves a float32 network's tensors and gradients into its own memory, values unchanged", () => {
    const network = createNetwork(spec, 1);
    const before = weightsOf(network);
    const heapBuffers = buffers(network);
    new Trainer(network, iris(), options);
    expect(weightsOf(network)).toBe(before);
    const placed = buffers(network);
    expect(placed.size).toBe(1);
    expect(heapBuffers.has([...placed][0])).toBe(false);
    expect(new Set(network.gradients().map((g) => g.buffer))).toEqual(placed);
  });

  it('gives the same bytes as the update that copies weights and gradients in and out every step', () => {
    const data = iris();
    const inPlace = new Trainer(createNetwork(spec, 1), data, options);
    const inPlaceReports = inPlace.fit();

    // The same run with the optimizer left without the network: Trainer's own code path, its optimizer swapped
    // for one that copies (the arrays it is handed are never its own).
    const copying = new Trainer(createNetwork(spec, 1), data, options);
    const shapes = copying.network.parameters().map((p) => p.length);
    const copyingAdam = createOptimizer(options.optimizer, shapes, Float32Array);
    (copying as unknown as { optimizer: typeof copyingAdam }).optimizer = copyingAdam;
    const copyingReports = copying.fit();

    expect(copyingAdam.slots[0].buffer).not.toBe(copying.network.parameters()[0].buffer);
    expect(weightsOf(inPlace.network)).toBe(weightsOf(copying.network));
    expect(inPlaceReports.map((r) => r.loss)).toEqual(copyingReports.map((r) => r.loss));
    expect(inPlaceReports[5].loss).toBeLessThan(inPlaceReports[0].loss);
  });

  it('a second trainer takes the network over; the first, if it goes on, still updates the tensors the network has now', () => {
    const data = iris();
    const network = createNetwork(spec, 1);
    const first = new Trainer(network, data, options);
    first.runEpoch();
    const afterFirst = weightsOf(network);
    const firstHome = [...buffers(network)][0];
    const second = new Trainer(network, data, options);
    const secondHome = [...buffers(network)][0];
    expect(secondHome).not.toBe(firstHome);
    expect(weightsOf(network)).toBe(afterFirst);
    // The first trainer's epoch reads the network's current arrays; its optimizer copies them in and out.
    first.runEpoch();
    const afterBoth = weightsOf(network);
    expect(afterBoth).not.toBe(afterFirst);
    expect([...buffers(network)][0]).toBe(secondHome);
    second.runEpoch();
    expect(weightsOf(network)).not.toBe(afterBoth);
  });

  it('leaves float64 networks and recurrent layers where they are', () => {
    const data = iris();
    const float64 = createNetwork(spec, 1, 'float64');
    const float64Buffers = buffers(float64);
    new Trainer(float64, { ...data, inputs: Float64Array.from(data.inputs), targets: Float64Array.from(data.targets) }, options);
    expect(buffers(float64)).toEqual(float64Buffers);

    const recurrentSpec: ModelSpec = {
      inputSize: 1,
      sequenceLength: 4,
      layers: [{ type: 'lstm', units: 32 }, { type: 'dense', units: 3, activation: 'softmax' }],
      loss: 'categoricalCrossEntropy',
    };
    const recurrent = createNetwork(recurrentSpec, 1);
    expect(recurrent.parameters().reduce((n, p) => n + p.length, 0)).toBeGreaterThanOrEqual(4096);
    const recurrentBuffers = buffers(recurrent);
    new Trainer(recurrent, data, options);
    expect(buffers(recurrent)).toEqual(recurrentBuffers);
  });
});
