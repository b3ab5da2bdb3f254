import { decodeBytes } from '../base64.js';
import type { AdamTask, SharedMemory } from '../companion.js';
import { ADAM_SHARED_WASM } from './adam-shared.wasm.js';

// The WebAssembly API as far as it is used here; the project's `lib` (ES2023 without DOM) does not declare it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedMemory;
};
type AdamKernel = (w: number, g: number, m: number, v: number, n: number, beta1: number, beta2: number, stepSize: number, epsilon: number) => void;

const PAGE_BYTES = 65536;
/** Each block starts on a cache line, and the split point of an update is a multiple of this many floats. */
const LINE_FLOATS = 16;

let module: object | null = null;

/** assembly/optimizer.ts compiled on an imported shared memory: what a companion thread instantiates too. */
export function sharedAdamModule(): object {
  return (module ??= new WebAssembly.Module(decodeBytes(ADAM_SHARED_WASM)));
}

/** Runs the kernel of an instance of sharedAdamModule(); the companion thread does the same on its side. */
export function runAdam(kernel: object, task: AdamTask): void {
  (kernel as AdamKernel)(task.w, task.g, task.m, task.v, task.n, task.beta1, task.beta2, task.stepSize, task.epsilon);
}

/**
 * Weights, gradients and both moments of `total` floats, each a block of a shared memory of exactly their size,
 * with the Adam kernel instantiated on it. Allocated once per optimizer: the views never move.
 */
export class SharedAdamArena {
  readonly memory: SharedMemory;
  readonly w: Float32Array;
  readonly g: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  private readonly kernel: object;

  constructor(readonly total: number) {
    const stride = Math.ceil(total / LINE_FLOATS) * LINE_FLOATS * 4;
    const pages = Math.max(1, Math.ceil((4 * stride) / PAGE_BYTES));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    [this.w, this.g, this.m, this.v] = [0, 1, 2, 3].map((i) => new Float32Array(this.memory.buffer, i * stride, total));
    this.kernel = (new WebAssembly.Instance(sharedAdamModule(), { env: { memory: this.memory } }).exports as { adam: object }).adam;
  }

  /** The update of floats [from, to) of every block, with the step's constants. */
  task(from: number, to: number, constants: Pick<AdamTask, 'beta1' | 'beta2' | 'stepSize' | 'epsilon'>): AdamTask {
    const at = (block: Float32Array) => block.byteOffset + 4 * from;
    return { w: at(this.w), g: at(this.g), m: at(this.m), v: at(this.v), n: to - from, ...constants };
  }

  run(task: AdamTask): void {
    runAdam(this.kernel, task);
  }

  /** Where the companion's share starts: about half, on a cache line. */
  splitPoint(): number {
    return Math.floor(this.total / 2 / LINE_FLOATS) * LINE_FLOATS;
  }
}
