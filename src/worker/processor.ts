// Runs inside a BullMQ worker thread. Trains epoch by epoch and reports every step to its worker process; it never
// touches Postgres or Redis itself. Imports engine and contracts only. Its worker process stops it through a flag
// read between batches (cancel, shutdown, lost lock), and so does the job's wall-time limit.
import '../runtime/training-thread-gemm.js';
import type { SandboxedJob } from 'bullmq';
import {
  PROCESS_TO_THREAD_CHANNEL,
  STOP_REASONS,
  THREAD_TO_PROCESS_CHANNEL,
  type ParentReply,
  type StartReply,
  type WriteReply,
  type StopReason,
  type ThreadEnvelope,
  type ThreadMessage,
  type TrainingJobData,
  type TrainingResult,
} from '../contracts/job-data.js';
import type { Evaluation } from '../contracts/evaluation.js';
import { DivergenceError, EngineError, Trainer, activeGemmBackend, createNetwork, deserializeModel, serializeModel, splitRows, type EpochReport } from '../engine/index.js';
import { judge } from '../evaluation/judge.js';

/** Lets the thread's event loop deliver messages (the parent's replies) between two synchronous epochs. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The user cancelled the job, or it is no longer active in Postgres: nothing more is recorded. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

/** The run stopped without finishing (worker shutting down, lock lost) after making its progress durable. */
export class ReleasedError extends Error {
  override name = 'ReleasedError';
}

/** The job trained past JOB_MAX_WALL_TIME_MS: it stopped at a batch boundary, its progress stored, and fails. */
export class WallTimeExceededError extends Error {
  override name = 'WallTimeExceededError';
  readonly code = 'ERR_JOB_WALL_TIME_EXCEEDED';
  constructor(readonly details: { deadline: string; epoch: number; stepsDone: number }) {
    super(
      `the job was still training at ${details.deadline}, the end of its wall time (JOB_MAX_WALL_TIME_MS since it ` +
        `first started); it stopped in epoch ${details.epoch + 1}, with its progress kept in its checkpoint`,
    );
  }
}

/**
 * The thread's end of the link to its worker process: `post` for epoch reports, `request` for what must be durable
 * before training goes on (the process replies once Postgres has it). A BroadcastChannel reaches the threads of
 * this process only, so the process has a single training worker (src/worker/main.ts).
 */
class ProcessLink {
  private readonly out = new BroadcastChannel(THREAD_TO_PROCESS_CHANNEL);
  private readonly replies = new BroadcastChannel(PROCESS_TO_THREAD_CHANNEL);
  private readonly pending = new Map<number, (reply: ParentReply['reply']) => void>();
  private readonly runId = crypto.randomUUID();
  private seq = 0;

  constructor(private readonly jobId: string) {
    this.replies.addEventListener('message', (event) => {
      const { runId, seq, reply } = (event as unknown as { data: ParentReply }).data;
      if (runId !== this.runId) return;
      this.pending.get(seq)?.(reply);
      this.pending.delete(seq);
    });
  }

  post(message: ThreadMessage): void {
    this.out.postMessage({ runId: this.runId, jobId: this.jobId, message } satisfies ThreadEnvelope);
  }

  request<Reply extends ParentReply['reply']>(message: ThreadMessage): Promise<Reply> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(seq, resolve as (reply: ParentReply['reply']) => void);
      this.out.postMessage({ runId: this.runId, jobId: this.jobId, seq, message } satisfies ThreadEnvelope);
    });
  }

  close(): void {
    this.post({ kind: 'end' });
    this.out.close();
    this.replies.close();
  }
}

export default async function train(job: SandboxedJob<TrainingJobData>): Promise<TrainingResult> {
  const data = job.data;
  const link = new ProcessLink(data.jobId);
  const stopFlag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  try {
    // What this thread's products run on (the backend training-thread-gemm installed), recorded with the job.
    const backend = activeGemmBackend();
    const start = await link.request<StartReply>({ kind: 'start', stop: stopFlag.buffer as SharedArrayBuffer, backend });
    if (!start.proceed) {
      if (start.reason === 'shutdown') throw new ReleasedError(`job ${data.jobId} not started: the worker is shutting down`);
      throw new CancelledError(`job ${data.jobId} not started: it is ${start.status ?? 'gone'}`);
    }
    const { dataset, spec, options, checkpointEvery, initialModel, evaluation } = start.input;
    const trainer = start.checkpoint
      ? Trainer.fromCheckpoint(start.checkpoint, dataset)
      : new Trainer(initialModel ? deserializeModel(initialModel) : createNetwork(spec, options.seed), dataset, options);
    let durableSteps = trainer.steps;
    const checkpoint = async () => {
      const stored = await link.request<WriteReply>({ kind: 'checkpoint', checkpoint: trainer.checkpoint() });
      // Refused when the checkpoint, or a metric before it, could not be written: training on would hide the loss.
      if (!stored.ok) throw new Error(`job ${data.jobId}: its progress up to epoch ${trainer.epoch} could not be stored`);
      durableSteps = trainer.steps;
    };
    // Read before every batch: an Int32 load and a clock read, nothing next to a batch's products.
    let stopReason: StopReason | 'wallTime' | null = null;
    const shouldStop = (): boolean => {
      const code = Atomics.load(stopFlag, 0);
      stopReason = code > 0 ? STOP_REASONS[code - 1] : Date.now() >= start.deadline ? 'wallTime' : null;
      return stopReason !== null;
    };
    /** Ends the run at the batch boundary it stopped on; whatever it keeps is stored first. */
    const stop = async (reason: StopReason | 'wallTime'): Promise<never> => {
      const where = `in epoch ${trainer.epoch + 1}`;
      if (reason === 'cancelled') throw new CancelledError(`job ${data.jobId} cancelled ${where}`);
      if (trainer.steps > durableSteps) await checkpoint();
      if (reason === 'wallTime') {
        throw new WallTimeExceededError({ deadline: new Date(start.deadline).toISOString(), epoch: trainer.epoch, stepsDone: trainer.steps });
      }
      throw new ReleasedError(`job ${data.jobId} released ${where} (${reason})`);
    };

    let last: EpochReport | null = null;
    while (!trainer.done) {
      await yieldToEventLoop();
      const report = trainer.runEpochUntil(shouldStop);
      if (report === null) return await stop(stopReason!);
      last = report;
      link.post({ kind: 'epoch', report: last });
      if (trainer.epoch % checkpointEvery === 0 && !trainer.done) await checkpoint();
    }
    const judged = judgeFinal(trainer, dataset, evaluation);
    const final = { kind: 'final' as const, model: serializeModel(trainer.network), last, epochs: trainer.epoch, evaluation: judged };
    const stored = await link.request<WriteReply>(final);
    if (!stored.ok) throw new Error(`job ${data.jobId}: the trained model could not be stored`);
    // Cancelled while the model was written: Postgres refused it, and the run ends as any cancelled run does.
    if (stored.hasModel === false) throw new CancelledError(`job ${data.jobId} cancelled after epoch ${trainer.epoch}, before its model was stored`);
    return { epochs: trainer.epoch, loss: last?.loss ?? null };
  } catch (err) {
    if (err instanceof EngineError) {
      const divergence = err instanceof DivergenceError
        ? { epoch: err.epoch, lastFiniteLoss: err.lastFiniteLoss, suggestedLearningRate: err.suggestedLearningRate }
        : {};
      const details = { field: err.field, expected: err.expected, ...divergence };
      await link.request({ kind: 'error', error: { code: err.code, message: err.message, details } });
    }
    if (err instanceof WallTimeExceededError) await link.request({ kind: 'error', error: { code: err.code, message: err.message, details: err.details } });
    throw err;
  } finally {
    link.close();
  }
}

/**
 * The final (or best restored) model on the validation split, or on the training rows when there is none. A model
 * whose figures cannot be computed (outputs that overflow) is stored without them rather than not at all.
 */
function judgeFinal(trainer: Trainer, dataset: StartInput['dataset'], context: StartInput['evaluation']): Evaluation | null {
  const { validationSplit = 0, seed = 0 } = trainer.options;
  const { validation } = splitRows(dataset.rows, validationSplit, seed);
  try {
    return validation.length > 0 ? judge(trainer.network, dataset, context, validation, 'validation') : judge(trainer.network, dataset, context, null, 'training');
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

type StartInput = Extract<StartReply, { proceed: true }>['input'];
