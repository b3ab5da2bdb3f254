import { afterEach, describe, expect, it } from 'vitest';
import { createNetwork, Rng, setGemmProvider, type ActivationName, type FloatArray, type LayerSpec, type ModelSpec, type Network } from '../../src/engine/index.js';
import { RecurrentLayer } from '../../src/engine/recurrent-layer.js';
import { loadOpenBlas } from '../../src/runtime/native-gemm.js';
import { randomizeBiases } from '../helpers/finite-differences.js';

/**
 * float32 rnn, lstm and gru layers run each step as fused WebAssembly kernel calls (assembly/recurrent.ts) with their
 * own exp and tanh; the float64 layers run the TypeScript steps, which the gradient checks through time hold to
 * central differences. Same weights, same batch: the float32 loss and every gradient must match the float64 ones.
 */

const STEPS = 7;
const INPUTS = 3;
const ROWS = 5;

afterEach(() => {
  setGemmProvider(null);
});

function pair(layers: LayerSpec[]): [Network, Network] {
  const spec: ModelSpec = { inputSize: INPUTS, sequenceLength: STEPS, layers, loss: 'meanSquaredError' };
  const net32 = createNetwork(spec, 3);
  randomizeBiases(net32, new Rng(8));
  const net64 = createNetwork(spec, 3, 'float64');
  net32.parameters().forEach((p, t) => net64.parameters()[t].set(p));
  return [net32, net64];
}

/** Worst |g32 - g64| over each tensor's largest |g64| (1e-3 at least), and the two losses. */
function compare(layers: LayerSpec[], bpttSteps?: number): { worst: number; loss32: number; loss64: number } {
  const [net32, net64] = pair(layers);
  for (const layer of net32.layers) if (layer instanceof RecurrentLayer) expect(layer.fused).toBe(true);
  const rng = new Rng(21);
  const x = new Float64Array(ROWS * STEPS * INPUTS).map(() => rng.next() * 4 - 2);
  const y = new Float64Array(ROWS * net64.outputSteps * net64.outputSize).map(() => rng.next() * 2 - 1);
  const loss32 = net32.lossAndGradients(Float32Array.from(x), Float32Array.from(y), ROWS, bpttSteps);
  const loss64 = net64.lossAndGradients(x, y, ROWS, bpttSteps);
  const g64 = net64.gradients();
  let worst = 0;
  net32.gradients().forEach((g: FloatArray, t) => {
    const scale = Math.max(1e-3, ...Array.from(g64[t], Math.abs));
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - g64[t][i]) / scale);
  });
  return { worst, loss32, loss64 };
}

const head: LayerSpec = { type: 'dense', units: 2, activation: 'linear' };
// Measured worst: 3.4e-7 (float32 rounding over 7 steps); a wrong derivative or carry is off by far more.
const TOLERANCE = 1e-5;

describe('fused float32 recurrent steps against the float64 TypeScript steps', () => {
  const activations: ActivationName[] = ['tanh', 'sigmoid', 'relu', 'leakyRelu', 'linear'];
  const cases = (['rnn', 'lstm', 'gru'] as const).flatMap((type) =>
    activations.flatMap((activation) => [false, true].map((returnSequences) => [type, activation, returnSequences] as const)),
  );

  // 6 units: one vector of four and a two-float tail per row, so both code paths of every kernel run.
  it.each(cases)('%s, %s, returnSequences %s', (type, activation, returnSequences) => {
    const { worst, loss32, loss64 } = compare([{ type, units: 6, activation, returnSequences }, head]);
    expect(worst).toBeLessThan(TOLERANCE);
    expect(Math.abs(loss32 - loss64)).toBeLessThan(1e-5 * (1 + loss64));
  });

  it.each(['rnn', 'lstm', 'gru'] as const)('%s under a second recurrent layer (dL/dx through the space), sequences in between', (type) => {
    const layers: LayerSpec[] = [{ type, units: 8, returnSequences: true }, { type, units: 5 }, head];
    expect(compare(layers).worst).toBeLessThan(TOLERANCE);
  });

  it.each(['rnn', 'lstm', 'gru'] as const)('%s with truncated backpropagation through time (3 steps)', (type) => {
    expect(compare([{ type, units: 4, returnSequences: true }, head], 3).worst).toBeLessThan(TOLERANCE);
  });

  it('an lstm over a gru: dL/dx from one layer’s space into another’s', () => {
    expect(compare([{ type: 'gru', units: 4, returnSequences: true }, { type: 'lstm', units: 4 }, head]).worst).toBeLessThan(TOLERANCE);
  });

  it.each(['lstm', 'gru'] as const)('%s with its per-step products on OpenBLAS, operands in the layer’s own wasm memory', (type) => {
    const blas = loadOpenBlas();
    let calls = 0;
    setGemmProvider({ name: blas.name, minWork: 1, gemm: (...args) => (calls++, blas.gemm(...args)), seen: () => undefined, threads: 1 });
    expect(compare([{ type, units: 6, returnSequences: true }, head]).worst).toBeLessThan(TOLERANCE);
    expect(calls).toBeGreaterThan(2 * STEPS);
  });

  it('larger batches grow the space without breaking earlier results: the same rows give the same bytes', () => {
    const [net32] = pair([{ type: 'lstm', units: 6 }, head]);
    const rng = new Rng(2);
    const x = new Float32Array(64 * STEPS * INPUTS).map(() => rng.next() * 2 - 1);
    const first = Float32Array.from(net32.predict(x.subarray(0, ROWS * STEPS * INPUTS), ROWS));
    net32.predict(x, 64);
    expect(Float32Array.from(net32.predict(x.subarray(0, ROWS * STEPS * INPUTS), ROWS))).toEqual(first);
  });
});
