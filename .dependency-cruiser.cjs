/** Import boundaries, checked in the test run (test/architecture/boundaries.test.ts). */
module.exports = {
  forbidden: [
    {
      name: 'engine-is-pure',
      severity: 'error',
      comment: 'src/engine imports only src/engine: no node:*, no packages, no service code.',
      from: { path: '^src/engine/' },
      to: { pathNot: '^src/engine/' },
    },
    {
      name: 'processor-imports-engine-and-contracts-only',
      severity: 'error',
      comment: 'The worker-thread processor trains and judges; persistence happens on the worker side.',
      from: { path: '^src/worker/processor\\.ts$' },
      to: { pathNot: '^(src/engine/|src/contracts/|src/evaluation/|src/worker/protocol\\.ts$|src/runtime/training-thread-gemm\\.ts$|node_modules/zod/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'evaluation-is-pure',
      severity: 'error',
      comment: 'Judging a model is arithmetic: it runs in the training thread and in the API alike.',
      from: { path: '^src/evaluation/' },
      to: { pathNot: '^(src/engine/|src/contracts/|src/evaluation/|node_modules/zod/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
