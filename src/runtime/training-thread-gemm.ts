// Imported first by the training thread's processor (src/worker/processor.ts): the thread multiplies on the backend
// its worker process chose (src/runtime/gemm-backend.ts), on the process's shared OpenBLAS thread board. What it
// installed goes with the job's start to the worker process, which records it with the job.
import { installTrainingThreadGemm } from './gemm-backend.js';

export const trainingThreadGemm = installTrainingThreadGemm();
