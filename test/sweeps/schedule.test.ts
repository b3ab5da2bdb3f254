// The pure parts of sweeps: drawing configurations from a space, and which trial jobs come next.
import { describe, expect, it } from 'vitest';
import type { Domain } from '../../src/contracts/sweeps.js';
import { halvingRungs, nextJobs, promoted, type SweepShape, type TrialJob } from '../../src/sweeps/schedule.js';
import { gridPoints, hasPath, parsePath, randomPoints, substitute } from '../../src/sweeps/space.js';

describe('search spaces', () => {
  const space: Record<string, Domain> = {
    'training.optimizer.learningRate': { logUniform: [1e-4, 1e-1] },
    'model.layers[0].units': { intRange: [4, 6] },
    'model.layers[1].rate': { uniform: [0.1, 0.5] },
    'training.batchSize': { choice: [16, 32] },
  };

  it('random draws repeat with the seed, differ without it, and stay within their domains', () => {
    const draws = randomPoints(space, 200, 42);
    expect(randomPoints(space, 200, 42)).toEqual(draws);
    expect(randomPoints(space, 200, 43)).not.toEqual(draws);
    for (const p of draws) {
      const lr = p['training.optimizer.learningRate'] as number;
      expect(lr).toBeGreaterThanOrEqual(1e-4);
      expect(lr).toBeLessThan(1e-1);
      expect([4, 5, 6]).toContain(p['model.layers[0].units']);
      expect(p['model.layers[1].rate']).toBeGreaterThanOrEqual(0.1);
      expect(p['model.layers[1].rate']).toBeLessThan(0.5);
      expect([16, 32]).toContain(p['training.batchSize']);
    }
    // Both ends of an integer range come up, and a log scale puts about as many draws in each decade.
    expect(new Set(draws.map((p) => p['model.layers[0].units']))).toEqual(new Set([4, 5, 6]));
    const decades = [0, 0, 0];
    for (const p of draws) decades[Math.floor(Math.log10(p['training.optimizer.learningRate'] as number) + 4)]++;
    for (const n of decades) expect(n).toBeGreaterThan(200 / 3 / 2);
  });

  it('a grid is every combination of the choices, the first path varying slowest', () => {
    expect(gridPoints({ a: { choice: [1, 2] }, b: { choice: ['x', 'y', 'z'] } })).toEqual([
      { a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'z' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }, { a: 2, b: 'z' },
    ]);
  });

  it('paths name values in base; substitution copies and leaves base alone', () => {
    const base = { model: { layers: [{ units: 8 }, { rate: 0.2 }] }, training: { optimizer: { learningRate: 0.01 } } };
    expect(parsePath('model.layers[1].rate')).toEqual(['model', 'layers', 1, 'rate']);
    expect(parsePath('model.layers[x].rate')).toBeNull();
    expect(parsePath('a..b')).toBeNull();
    expect(hasPath(base, parsePath('model.layers[1].rate')!)).toBe(true);
    expect(hasPath(base, parsePath('model.layers[2].units')!)).toBe(false);
    expect(hasPath(base, parsePath('model.__proto__')!)).toBe(false);
    const changed = substitute(base, { 'model.layers[0].units': 32, 'training.optimizer.learningRate': 0.1 });
    expect(changed.model.layers[0].units).toBe(32);
    expect(changed.training.optimizer.learningRate).toBe(0.1);
    expect(base.model.layers[0].units).toBe(8);
  });
});

describe('successive halving', () => {
  it('rungs: the last trains the whole epochs, each before it 1/eta of the next, as long as a trial and an epoch are left', () => {
    expect(halvingRungs(9, 3, 9)).toEqual([1, 3, 9]);
    expect(halvingRungs(16, 2, 40)).toEqual([3, 5, 10, 20, 40]);
    expect(halvingRungs(9, 3, 2)).toEqual([2]);
    expect(halvingRungs(2, 3, 30)).toEqual([30]);
  });

  const shape: SweepShape = { strategy: 'halving', trials: 9, rungEpochs: [1, 3, 9], eta: 3, parallelism: 4, objective: 'valLoss' };
  const succeeded = (trial: number, rung: number, objective: number): TrialJob => ({ trial, rung, status: 'succeeded', objective });

  it('makes at most `parallelism` jobs unfinished, in trial order', () => {
    expect(nextJobs(shape, []).make).toEqual([0, 1, 2, 3].map((trial) => ({ trial, rung: 0 })));
    const two = [succeeded(0, 0, 1), { trial: 1, rung: 0, status: 'running' as const, objective: null }];
    expect(nextJobs(shape, two).make).toEqual([2, 3, 4].map((trial) => ({ trial, rung: 0 })));
  });

  it('promotes the best third of a finished rung, lowest loss first, and ends after the last rung', () => {
    const losses = [0.9, 0.2, 0.8, 0.5, 0.3, 0.7, 0.6, 0.4, 1.0];
    const rung0 = losses.map((loss, trial) => succeeded(trial, 0, loss));
    expect(promoted(shape, rung0.slice(0, 8), 0)).toBeNull();
    expect(promoted(shape, rung0, 0)).toEqual([1, 4, 7]);
    expect(nextJobs(shape, rung0)).toEqual({ make: [1, 4, 7].map((trial) => ({ trial, rung: 1 })), done: false });
    const rung1 = [succeeded(1, 1, 0.15), succeeded(4, 1, 0.1), succeeded(7, 1, 0.3)];
    expect(nextJobs(shape, [...rung0, ...rung1])).toEqual({ make: [{ trial: 4, rung: 2 }], done: false });
    expect(nextJobs(shape, [...rung0, ...rung1, succeeded(4, 2, 0.05)])).toEqual({ make: [], done: true });
  });

  it('failed trials are not promoted; a rung where all failed ends the sweep', () => {
    const rung0 = Array.from({ length: 9 }, (_, trial) => ({ trial, rung: 0, status: trial < 7 ? ('failed' as const) : ('succeeded' as const), objective: trial < 7 ? null : trial }));
    expect(promoted(shape, rung0, 0)).toEqual([7, 8]);
    const allFailed = rung0.map((j) => ({ ...j, status: 'failed' as const, objective: null }));
    expect(nextJobs(shape, allFailed)).toEqual({ make: [], done: true });
  });
});
