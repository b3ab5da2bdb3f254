/**
 * A second thread the host may lend a training thread (src/runtime/companion-thread.ts). The engine starts no
 * threads and loads nothing: it hands work to what it is given, as it does products to a GemmProvider. The work is
 * a share of Adam's update, on a shared WebAssembly memory where the optimizer keeps the network's tensors and
 * moments; the companion runs the same kernel (sharedAdamModule) on the same bytes, so the split changes no bit.
 */

/** A WebAssembly.Memory created with `shared: true` (its buffer a SharedArrayBuffer). */
export interface SharedMemory {
  readonly buffer: SharedArrayBuffer;
}

/** The arguments of assembly/optimizer.ts's adam: byte offsets of n floats each, then the step's constants. */
export interface AdamTask {
  w: number;
  g: number;
  m: number;
  v: number;
  n: number;
  beta1: number;
  beta2: number;
  stepSize: number;
  epsilon: number;
}

/** A step's constants: an AdamTask without its blocks. */
export type AdamConstants = Pick<AdamTask, 'beta1' | 'beta2' | 'stepSize' | 'epsilon'>;

export interface Companion {
  /** Whether the companion may work now: false while it is not started yet or other jobs need the other cores. */
  available(): boolean;
  /** Starts `task` on the companion thread over `memory` and returns at once; finish() waits for it. */
  startAdam(memory: SharedMemory, task: AdamTask): void;
  /** Waits until the task started last is done; throws when the companion failed. */
  finish(): void;
}

let companion: Companion | null = null;

/** Installs (or, with null, removes) this thread's companion. */
export function setCompanion(next: Companion | null): void {
  companion = next;
}

export function currentCompanion(): Companion | null {
  return companion;
}
