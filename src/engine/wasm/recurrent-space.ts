import { gemmWithin } from '../gemm.js';
import type { Gemm } from '../types.js';
import type { RecurrentKernels } from './recurrent-kernels.js';
import { WasmGemm } from './wasm-gemm.js';

/**
 * A float32 recurrent layer's buffers in a WebAssembly instance of its own, so that the fused step kernels and the
 * per-step products work on them in place: no copy per call, and no other layer's allocation can detach them. The
 * instance goes away with the layer. Only `allocate` grows its memory.
 */
export class RecurrentSpace {
  private readonly wasm = new WasmGemm();
  readonly kernels: RecurrentKernels = this.wasm.recurrentKernels;
  /** Products on this space's arrays: native when the host installed a provider, else wasm in place. */
  readonly gemm: Gemm = gemmWithin(this.wasm.gemm);

  /**
   * Runs `take` (which calls `floats` for every buffer) over a fresh arena. Growing memory detaches the views taken
   * before it, so when `take` grew it, it runs once more: the memory now holds them all, and every view stays valid.
   */
  allocate(take: () => void): void {
    const before = this.wasm.memory.buffer;
    this.wasm.reset();
    take();
    if (this.wasm.memory.buffer === before) return;
    this.wasm.reset();
    take();
  }

  /** A zero-filled float32 array in this space (inside `allocate` only). */
  floats(length: number): Float32Array {
    return this.wasm.alloc(length).view();
  }
}
