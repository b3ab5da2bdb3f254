import type { Dataset, Network } from '../src/engine/index.js';

export interface PassTimes {
  forwardMicros: number;
  backwardMicros: number;
  /** backward / forward; for dense layers the cost model of backprop says about 2 (about 1 when the first layer is the big one). */
  ratio: number;
}

const WARMUP_REPS = 200;
const BLOCKS = 40;
const REPS_PER_BLOCK = 10;

/**
 * Time per batch of network.forward and of network.lossAndGradients on the same rows; backward is the
 * difference (so it also carries the loss, which is tiny next to the matrix products). Short blocks of the
 * two calls alternate and the fastest block of each is kept: other processes only ever add time, and
 * alternating gives both calls the same chances at a quiet moment.
 */
export function measureBackwardForward(network: Network, data: Dataset, rows: number): PassTimes {
  const x = data.inputs.subarray(0, rows * network.inputWidth);
  const y = data.targets.subarray(0, rows * network.outputWidth);
  const timePerCall = (call: () => void, reps: number): number => {
    const started = performance.now();
    for (let i = 0; i < reps; i++) call();
    return ((performance.now() - started) * 1000) / reps;
  };
  const forward = () => network.forward(x, rows);
  const both = () => network.lossAndGradients(x, y, rows);
  timePerCall(forward, WARMUP_REPS);
  timePerCall(both, WARMUP_REPS);

  let forwardMicros = Infinity;
  let bothMicros = Infinity;
  for (let block = 0; block < BLOCKS; block++) {
    forwardMicros = Math.min(forwardMicros, timePerCall(forward, REPS_PER_BLOCK));
    bothMicros = Math.min(bothMicros, timePerCall(both, REPS_PER_BLOCK));
  }
  const backwardMicros = bothMicros - forwardMicros;
  return { forwardMicros, backwardMicros, ratio: backwardMicros / forwardMicros };
}
