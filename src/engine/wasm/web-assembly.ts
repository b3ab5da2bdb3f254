import type { SharedMemory } from '../companion.js';

/**
 * The WebAssembly API as far as the engine uses it, declared in one place: the project's `lib` (ES2023 without DOM)
 * does not declare it.
 */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedMemory;
}
declare const WebAssembly: WebAssemblyApi;

export const WebAssemblyApi: WebAssemblyApi = WebAssembly;
