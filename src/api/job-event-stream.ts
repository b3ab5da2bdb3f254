// One client's event stream of one job (GET /v1/jobs/:id/events). Redis messages say what just happened; Postgres
// says what is true, and the stream falls back on it whenever the two may differ: at the start (snapshot and the
// epochs after Last-Event-ID), when an epoch number skips (a message was lost), before the end, and when the API
// process's periodic check (plugins/job-events.ts) finds the stream still behind what Postgres had at the last one.
// Steps run one at a time in arrival order, so events leave in epoch order and each epoch leaves once.
import { PassThrough } from 'node:stream';
import type { Evaluation } from '../contracts/evaluation.js';
import type { ClosedEventData, EndEventData, EpochEventData, JobEventMessage, StatusEventData } from '../contracts/job-events.js';
import { finishedStatuses, type JobError, type JobStatus } from '../contracts/jobs.js';
import type { EpochReport } from '../engine/index.js';

/** An epoch as Postgres stores it: epochs stored before learning-rate schedules have no rate. */
export type StoredEpoch = Omit<EpochReport, 'learningRate'> & { learningRate: number | null };

export interface JobSnapshot {
  status: JobStatus;
  epoch: number;
  epochs: number;
  modelId: string | null;
  error: JobError | null;
}

/** Postgres, as far as this job is concerned (already checked to be the caller's). */
export interface JobEventSource {
  job(): Promise<JobSnapshot | null>;
  metricsSince(epoch: number): Promise<StoredEpoch[]>;
  /** The evaluation stored with the job's model, for the end event; absent where a stream does not show it. */
  evaluation?(modelId: string): Promise<Evaluation | null>;
}

interface StreamLogger {
  warn(obj: object, msg?: string): void;
}

/** The ETA is epochs left times the mean duration of this many recent epochs. */
const ETA_WINDOW = 10;
/** A client that reads slower than this much buffered output is dropped; it reconnects with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const isFinished = (status: JobStatus): status is EndEventData['status'] => finishedStatuses.includes(status);

export class JobEventStream {
  readonly output = new PassThrough();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private status: JobStatus | null = null;
  private epochs = 0;
  private readonly recentMs: number[] = [];
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly source: JobEventSource,
    /** Last-Event-ID: the last epoch the client has; 0 for all of them. */
    private lastEpoch: number,
    private readonly log: StreamLogger,
  ) {}

  /** Runs when the stream closes, whoever closes it. */
  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  /** The first step: waits for `ready` (the Redis subscription), then sends the snapshot and the missed epochs. */
  start(ready: Promise<unknown>): void {
    this.run(async () => {
      await ready;
      const job = await this.source.job();
      if (!job) return this.close();
      this.epochs = job.epochs;
      // Epochs up to lastEpoch are only read to seed the ETA.
      const rows = await this.source.metricsSince(Math.max(0, this.lastEpoch - ETA_WINDOW));
      this.sendStatus(job.status, Math.max(job.epoch, this.lastEpoch));
      for (const row of rows) {
        if (row.epoch <= this.lastEpoch) this.remember(row.ms);
        else this.sendEpoch(row);
      }
      if (isFinished(job.status)) await this.sendEnd({ status: job.status, modelId: job.modelId, error: job.error });
    });
  }

  receive(message: JobEventMessage | { type: 'recheck' }): void {
    switch (message.type) {
      case 'epoch':
        return this.run(async () => {
          const { report } = message;
          if (report.epoch <= this.lastEpoch) return; // a replay after a resume, already sent
          if (report.epoch === this.lastEpoch + 1) this.sendEpoch(report);
          else await this.sendEpochsSince(); // a message was lost: Postgres has them all
        });
      case 'status':
        return this.run(() => {
          if (message.status !== this.status && !isFinished(message.status)) this.sendStatus(message.status, Math.max(message.epoch, this.lastEpoch));
        });
      case 'end':
        return this.run(async () => {
          await this.sendEpochsSince();
          await this.sendEnd(message);
        });
      case 'recheck':
        return this.run(() => this.catchUp());
    }
  }

  /** Keeps the connection open through proxies. */
  ping(): void {
    this.run(() => this.write(': ping\n\n'));
  }

  /** Whether the client has not yet been sent what Postgres says of the job (`seen`). */
  isBehind(seen: { status: JobStatus; epoch: number }): boolean {
    return seen.status !== this.status || seen.epoch > this.lastEpoch;
  }

  /** Ends the stream before the job ends, with a last `event: closed` saying why. */
  end(reason: ClosedEventData): void {
    this.run(() => {
      this.send('closed', reason);
      this.close();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.output.end();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  private run(step: () => Promise<void> | void): void {
    this.chain = this.chain
      .then(async () => {
        if (!this.closed) await step();
      })
      .catch((err: unknown) => {
        // Postgres unreachable, say: end the stream; the client reconnects with Last-Event-ID.
        this.log.warn({ err }, 'job event stream failed; closing it');
        this.close();
      });
  }

  private async catchUp(): Promise<void> {
    const job = await this.source.job();
    if (!job) return this.close();
    await this.sendEpochsSince();
    if (isFinished(job.status)) await this.sendEnd({ status: job.status, modelId: job.modelId, error: job.error });
    else if (job.status !== this.status) this.sendStatus(job.status, Math.max(job.epoch, this.lastEpoch));
  }

  private async sendEpochsSince(): Promise<void> {
    for (const row of await this.source.metricsSince(this.lastEpoch)) this.sendEpoch(row);
  }

  private remember(ms: number): void {
    this.recentMs.push(ms);
    if (this.recentMs.length > ETA_WINDOW) this.recentMs.shift();
  }

  private sendStatus(status: JobStatus, epoch: number): void {
    this.status = status;
    this.send('status', { status, epoch, epochs: this.epochs } satisfies StatusEventData);
  }

  private sendEpoch(row: StoredEpoch): void {
    if (row.epoch <= this.lastEpoch) return;
    this.remember(row.ms);
    const left = this.epochs - row.epoch;
    const meanMs = this.recentMs.reduce((a, b) => a + b, 0) / this.recentMs.length;
    const data: EpochEventData = {
      epoch: row.epoch,
      epochs: this.epochs,
      loss: row.loss,
      valLoss: row.valLoss,
      accuracy: row.accuracy,
      valAccuracy: row.valAccuracy,
      learningRate: row.learningRate,
      ms: row.ms,
      etaSeconds: Math.round((Math.max(0, left) * meanMs) / 10) / 100,
    };
    this.lastEpoch = row.epoch;
    this.send('epoch', data);
  }

  private async sendEnd(end: Omit<EndEventData, 'evaluation'>): Promise<void> {
    const evaluation = end.modelId && this.source.evaluation ? await this.source.evaluation(end.modelId) : null;
    if (this.closed) return;
    this.send('end', { status: end.status, modelId: end.modelId, error: end.error, evaluation } satisfies EndEventData);
    this.close();
  }

  /** Every event carries the last epoch sent as its id, so Last-Event-ID always means "I have epochs up to here". */
  private send(event: string, data: object): void {
    this.write(`id: ${this.lastEpoch}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.output.writableLength > MAX_BUFFERED_BYTES) {
      this.log.warn({ buffered: this.output.writableLength }, 'job event stream client too slow; closing the stream');
      return this.close();
    }
    this.output.write(text);
  }
}
