// Imported first by the training thread's processor (src/worker/processor.ts): the thread multiplies on the backend
// its worker process chose (src/runtime/gemm-backend.ts), on the process's shared OpenBLAS thread board.
import { installTrainingThreadGemm } from './gemm-backend.js';

installTrainingThreadGemm();
