// What a job's float32 products ran on, recorded per run by the worker (src/runtime/gemm-backend.ts chooses it) and
// shown with the job and its model.
import { z } from 'zod';

export const gemmBackendSchema = z
  .object({
    gemm: z
      .string()
      .describe(
        "What the run's float32 matrix products ran on: OpenBLAS from a size on, WebAssembly below " +
          "('openblas 0.3.21 Cooperlake from 1024 multiply-adds, relaxed-simd below'), or WebAssembly alone ('relaxed-simd', 'simd')",
      ),
    threads: z.number().int().describe("OpenBLAS's thread count, at most (fewer while other jobs of its worker train); 1 on WebAssembly"),
    fromEpoch: z.number().int().describe('The epoch the first run on this backend started from: 0, or the checkpoint it resumed'),
  })
  .meta({ id: 'GemmBackend' });
export type GemmBackendRecord = z.infer<typeof gemmBackendSchema>;
