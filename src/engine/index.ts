// Public surface of the engine. Everything outside src/engine imports from here only.
export * from './types.js';
export { EngineError, DivergenceError } from './errors.js';
export { Network, createNetwork } from './network.js';
export { MAX_UNITS, outputUnits, validateSpec } from './spec-validation.js';
export { estimatePredictBytes, estimateTrainingBytes, type TrainingFootprint } from './memory-estimate.js';
export { Trainer, splitRows, MAX_EPOCHS, DEFAULT_RECURRENT_CLIP_NORM, type EvaluationSet } from './trainer.js';
export { serializeModel, deserializeModel } from './serialize.js';
export { gemm, activeGemm, activeGemmBackend, setGemmProvider, type GemmProvider } from './gemm.js';
export { tsGemm, gemmReference } from './gemm-ts.js';
export { ACTIVATION_NAMES, LEAKY_RELU_SLOPE } from './activations.js';
export { LOSS_NAMES } from './losses.js';
export { Rng } from './rng.js';
export { setCompanion, currentCompanion, type Companion, type AdamTask, type SharedMemory } from './companion.js';
export { sharedAdamModule } from './wasm/shared-adam.js';
