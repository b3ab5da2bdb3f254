// Runs inside a BullMQ worker thread. Trains epoch by epoch and reports every step to the parent through
// job.updateProgress; it never touches Postgres or Redis itself. Imports engine and contracts only.
import type { SandboxedJob } from 'bullmq';
import type { TrainingJobData, TrainingProgress, TrainingResult } from '../contracts/job-data.js';
import { EngineError, Trainer, createNetwork, serializeModel, type EpochReport } from '../engine/index.js';

const decode = (text: string): Float32Array => {
  const bytes = Buffer.from(text, 'base64');
  // Copy into a fresh, aligned buffer; Node's pooled Buffers may start at an odd offset.
  return new Float32Array(new Uint8Array(bytes).buffer);
};

/** Lets the thread's event loop deliver messages (the parent's cancel) between two synchronous epochs. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class CancelledError extends Error {
  override name = 'CancelledError';
}

export default async function train(job: SandboxedJob<TrainingJobData>, _token?: string, signal?: AbortSignal): Promise<TrainingResult> {
  const data = job.data;
  const send = (message: TrainingProgress) => job.updateProgress(message as unknown as object);
  const dataset = { rows: data.dataset.rows, inputs: decode(data.dataset.inputs), targets: decode(data.dataset.outputs) };

  let last: EpochReport | null = null;
  try {
    const trainer = data.resumeFrom
      ? Trainer.fromCheckpoint(data.resumeFrom, dataset)
      : new Trainer(createNetwork(data.spec, data.options.seed), dataset, data.options);
    while (!trainer.done) {
      await yieldToEventLoop();
      if (signal?.aborted) throw new CancelledError(`job ${data.jobId} cancelled after epoch ${trainer.epoch}`);
      last = trainer.runEpoch();
      await send({ kind: 'epoch', report: last });
      if (trainer.epoch % data.checkpointEvery === 0 && !trainer.done) {
        await send({ kind: 'checkpoint', checkpoint: trainer.checkpoint() });
      }
    }
    await send({ kind: 'final', model: serializeModel(trainer.network), last, epochs: trainer.epoch });
    return { epochs: trainer.epoch, loss: last?.loss ?? null };
  } catch (err) {
    if (err instanceof EngineError) {
      const details = { field: err.field, expected: err.expected };
      await send({ kind: 'error', error: { code: err.code, message: err.message, details } });
    }
    throw err;
  }
}
