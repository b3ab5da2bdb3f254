// `npm run worker`: one training worker process.
import '../runtime/wasm-flags.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../logger.js';
import { startTrainingWorker } from './training-worker.js';

const config = loadConfig();
const log = createLogger(config);
const training = await startTrainingWorker(config, log);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker shutting down, waiting for running jobs');
  await training.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
