import { decodeBytes } from '../base64.js';
import { currentCompanion, type AdamConstants, type AdamTask, type SharedMemory } from '../companion.js';
import { ADAM_SHARED_WASM } from './adam-shared.wasm.js';
import { WebAssemblyApi as WebAssembly } from './web-assembly.js';

type AdamKernel = (w: number, g: number, m: number, v: number, n: number, beta1: number, beta2: number, stepSize: number, epsilon: number) => void;

const PAGE_BYTES = 65536;
/** Each block starts on a cache line, and the split point of an update is a multiple of this many floats. */
const LINE_FLOATS = 16;

let module: object | null = null;

/** assembly/optimizer.ts compiled on an imported shared memory: what a companion thread instantiates too. */
export function sharedAdamModule(): object {
  return (module ??= new WebAssembly.Module(decodeBytes(ADAM_SHARED_WASM)));
}

/**
 * Weights, gradients and both moments of `total` floats, each a block of a shared memory of exactly their size,
 * with the Adam kernel instantiated on it. Allocated once per optimizer: the views never move. While this thread's
 * companion is available, it updates the second half of every block and this thread the first, at once; the
 * kernel is elementwise, so the bytes are those of one thread's update.
 */
export class SharedAdamArena {
  readonly memory: SharedMemory;
  readonly w: Float32Array;
  readonly g: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Where the companion's share starts: about half, on a cache line. */
  readonly split: number;
  private readonly kernel: AdamKernel;

  constructor(readonly total: number) {
    const stride = Math.ceil(total / LINE_FLOATS) * LINE_FLOATS * 4;
    const pages = Math.max(1, Math.ceil((4 * stride) / PAGE_BYTES));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    [this.w, this.g, this.m, this.v] = [0, 1, 2, 3].map((i) => new Float32Array(this.memory.buffer, i * stride, total));
    this.split = Math.floor(total / 2 / LINE_FLOATS) * LINE_FLOATS;
    this.kernel = (new WebAssembly.Instance(sharedAdamModule(), { env: { memory: this.memory } }).exports as { adam: AdamKernel }).adam;
  }

  /** The update of every block, shared with the companion when it is available. */
  update(constants: AdamConstants): void {
    const companion = currentCompanion();
    if (companion === null || !companion.available()) {
      this.run(this.task(0, this.total, constants));
      return;
    }
    companion.startAdam(this.memory, this.task(this.split, this.total, constants));
    this.run(this.task(0, this.split, constants));
    companion.finish();
  }

  /** The update of floats [from, to) of every block, with the step's constants. */
  task(from: number, to: number, constants: AdamConstants): AdamTask {
    const at = (block: Float32Array) => block.byteOffset + 4 * from;
    return { w: at(this.w), g: at(this.g), m: at(this.m), v: at(this.v), n: to - from, ...constants };
  }

  /** Runs `task` on this thread. */
  run(task: AdamTask): void {
    this.kernel(task.w, task.g, task.m, task.v, task.n, task.beta1, task.beta2, task.stepSize, task.epsilon);
  }
}
