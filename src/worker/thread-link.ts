// The worker process's end of the link to its training threads (the thread's end is in processor.ts). Threads
// report over a BroadcastChannel instead of BullMQ's job.updateProgress, which writes to Redis before the process
// sees anything: with Redis flushed that write fails, the sandbox gives up on the job and the thread trains on
// unseen. Here reports reach the process whatever Redis does, and the process answers the ones the thread waits
// for (start, checkpoint, final, error) once Postgres has them. It also stops runs: each run's start hands over a
// flag in shared memory that training reads between batches.
import {
  PROCESS_TO_THREAD_CHANNEL,
  THREAD_TO_PROCESS_CHANNEL,
  STOP_REASONS,
  type ParentReply,
  type StopReason,
  type ThreadEnvelope,
} from '../contracts/job-data.js';

export class ThreadLink {
  private readonly inbox = new BroadcastChannel(THREAD_TO_PROCESS_CHANNEL);
  private readonly outbox = new BroadcastChannel(PROCESS_TO_THREAD_CHANNEL);
  /** Every run that said start and not yet end: its job and its stop flag. */
  private readonly runs = new Map<string, { jobId: string; stop: Int32Array }>();

  constructor(handle: (envelope: ThreadEnvelope) => Promise<ParentReply['reply'] | undefined>) {
    this.inbox.addEventListener('message', (event) => {
      const envelope = (event as unknown as { data: ThreadEnvelope }).data;
      const { runId, jobId, seq, message } = envelope;
      if (message.kind === 'start') this.runs.set(runId, { jobId, stop: new Int32Array(message.stop) });
      if (message.kind === 'end') this.runs.delete(runId);
      void handle(envelope).then((reply) => {
        if (seq !== undefined && reply !== undefined) this.outbox.postMessage({ runId, seq, reply } satisfies ParentReply);
      });
    });
  }

  /** Ids of the jobs this process is training now (one per run; a job may briefly have two runs). */
  activeJobIds(): string[] {
    return [...new Set([...this.runs.values()].map((run) => run.jobId))];
  }

  /**
   * Asks the job's runs to stop at their next batch boundary, for `reason`; a run already asked keeps its first
   * reason. Returns whether this process has a run of the job.
   */
  stop(jobId: string, reason: StopReason): boolean {
    let found = false;
    for (const run of this.runs.values()) {
      if (run.jobId !== jobId) continue;
      found = true;
      Atomics.compareExchange(run.stop, 0, 0, STOP_REASONS.indexOf(reason) + 1);
    }
    return found;
  }

  get activeRuns(): number {
    return this.runs.size;
  }

  close(): void {
    this.inbox.close();
    this.outbox.close();
  }
}
