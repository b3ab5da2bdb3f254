// Relaxed SIMD is behind a flag on Node 20; setting it is the host's job, done by every entry point through this.
import '../../src/runtime/wasm-flags.js';
import { describe, expect, it } from 'vitest';
import { createNetwork, EngineError, Rng, type ModelSpec } from '../../src/engine/index.js';
import { createOptimizer } from '../../src/engine/optimizers.js';
import { WasmGemm } from '../../src/engine/wasm/wasm-gemm.js';
import { threeClassData, uninterruptedAndResumed, weightsOf } from '../helpers/determinism.js';

const random = (n: number, rng: Rng, scale: number) => Float64Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);

/** Adam in float64, written out from Kingma & Ba: the reference the float32 kernel is held to. */
function referenceAdam(w: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, b1: number, b2: number, step: number, eps: number) {
  for (let i = 0; i < w.length; i++) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    w[i] -= (step * m[i]) / (Math.sqrt(v[i]) + eps);
  }
}

describe('wasm adam', () => {
  for (const variant of ['simd', 'relaxed-simd'] as const) {
    it(`matches a float64 reference over 30 steps, every length around the 4-wide vectors (${variant})`, () => {
      const rng = new Rng(5);
      const kernels = new WasmGemm(variant);
      for (const n of [1, 3, 4, 5, 7, 8, 9, 17, 1000]) {
        const [w, g, m, v] = [0, 1, 2, 3].map(() => kernels.alloc(n).view());
        const ref = { w: random(n, rng, 1), m: new Float64Array(n), v: new Float64Array(n) };
        w.set(ref.w);
        for (let step = 1; step <= 30; step++) {
          const grad = random(n, rng, 0.1);
          g.set(grad);
          const size = (0.01 * Math.sqrt(1 - 0.999 ** step)) / (1 - 0.9 ** step);
          kernels.adam(w, g, m, v, 0.9, 0.999, size, 1e-7);
          referenceAdam(ref.w, grad, ref.m, ref.v, 0.9, 0.999, size, 1e-7);
        }
        for (let i = 0; i < n; i++) expect(Math.abs(w[i] - ref.w[i])).toBeLessThan(1e-5);
      }
    });
  }

  it('refuses arrays of other memories or other lengths instead of updating the wrong floats', () => {
    const kernels = new WasmGemm('simd');
    const [w, g, m] = [0, 1, 2].map(() => kernels.alloc(8).view());
    expect(() => kernels.adam(w, g, m, new Float32Array(8), 0.9, 0.999, 0.01, 1e-7)).toThrow(EngineError);
    expect(() => kernels.adam(w, g, m, kernels.alloc(4).view(), 0.9, 0.999, 0.01, 1e-7)).toThrow(EngineError);
  });

  it('serves float32 networks from 4,096 parameters; float64 and smaller ones keep the TypeScript update', () => {
    const adam = { type: 'adam', learningRate: 0.01 } as const;
    // The TypeScript update gives every moment its own array; the wasm one keeps them all in its instance's memory.
    const inWasm = (shapes: number[], Float: Float32ArrayConstructor | Float64ArrayConstructor) =>
      new Set(createOptimizer(adam, shapes, Float).slots.map((s) => s.buffer)).size === 1;
    expect(inWasm([4000, 96], Float32Array)).toBe(true);
    expect(inWasm([4000, 95], Float32Array)).toBe(false);
    expect(inWasm([4000, 96], Float64Array)).toBe(false);
  });

  it('checkpoint at epoch k + resume equals the uninterrupted run with the wasm update', () => {
    const spec: ModelSpec = {
      inputSize: 20,
      layers: [
        { type: 'dense', units: 96, activation: 'relu' },
        { type: 'dense', units: 32, activation: 'tanh' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: 'categoricalCrossEntropy',
    };
    expect(createNetwork(spec, 1).parameters().reduce((n, p) => n + p.length, 0)).toBeGreaterThanOrEqual(4096);
    const data = threeClassData(240, 20, 20, (x, o) => x[o] - x[o + 1] * x[o + 2]);
    const options = { optimizer: { type: 'adam', learningRate: 0.005 }, epochs: 8, batchSize: 32, seed: 3 } as const;
    const { full, fullReports, resumed } = uninterruptedAndResumed(spec, data, options, 4);
    const rest = resumed.fit();
    expect(weightsOf(resumed.network)).toBe(weightsOf(full.network));
    expect(rest.map((r) => r.loss)).toEqual(fullReports.slice(4).map((r) => r.loss));
    expect(fullReports[7].loss).toBeLessThan(fullReports[0].loss);
  });
});
