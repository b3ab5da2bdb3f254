// `npm run worker`: one training worker process.
import '../runtime/wasm-flags.js';
import { loadConfig } from '../config/index.js';
import { installGemmBackend } from '../runtime/gemm-backend.js';
import { createLogger } from '../logger.js';
import { checkHealthPort, HealthPortInUseError } from './health-server.js';
import { startTrainingWorker } from './training-worker.js';
import { waitForSchema } from './wait-for-schema.js';

const config = loadConfig();
const log = createLogger(config);
// Before any training thread starts: they take the process's choice and its OpenBLAS thread board.
log.info({ gemm: installGemmBackend(config.BACKPROP_NATIVE_GEMM, 'shared').description }, 'float32 matrix products');

/** A taken health port is the user's to fix: one line on stderr, exit 1, no stack. */
function exitIfPortTaken(err: unknown): never {
  if (err instanceof HealthPortInUseError) {
    console.error(`worker: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
// Checked before the worker takes any job; the bind at the end of start-up can still lose a race, caught the same way.
await checkHealthPort(config.WORKER_HEALTH_PORT, config.WORKER_HEALTH_HOST).catch(exitIfPortTaken);
await waitForSchema(config.DATABASE_URL, log);
const training = await startTrainingWorker(config, log).catch(exitIfPortTaken);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker shutting down: checkpointing running jobs and handing them back to the queue');
  // Bounded: training stops at its next batch boundary, but a huge batch or a write waiting for Postgres must not
  // keep the process alive. Whatever was not handed back is picked up by another worker's stalled-job check, from
  // its last checkpoint; close() recorded its run as released first, so that is not counted as a crash.
  setTimeout(() => {
    log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'worker shutdown timed out; exiting (its runs were recorded as released)');
    process.exit(1);
  }, config.SHUTDOWN_TIMEOUT_MS).unref();
  await training.close();
  log.info({ signal }, 'worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
