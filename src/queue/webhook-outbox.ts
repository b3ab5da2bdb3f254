// Webhooks go out through an outbox: when a job ends, its delivery row (event id, url, the exact body) is written to
// Postgres first, then a BullMQ job on the `webhooks` queue carries its id to a worker, which POSTs it with retries
// and exponential backoff. Rows are unique per (job, event) and queue jobs are keyed by the delivery id, so the
// several processes that may notice one job's end (its worker, the cancel message, the sweep) create one delivery.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { JobView } from '../contracts/jobs.js';
import type { WebhookBody, WebhookEvent, WebhookJobData } from '../contracts/webhooks.js';
import type { WebhookRepository } from '../db/webhooks.js';
import type { QueueLogger } from './dispatcher.js';

const DAY_MS = 24 * 3600_000;

export interface WebhookOutboxDeps {
  webhooks: WebhookRepository;
  queue: Queue<WebhookJobData>;
  /** WEBHOOK_MAX_ATTEMPTS, WEBHOOK_BACKOFF_MS */
  attempts: number;
  backoffMs: number;
  log: QueueLogger;
}

/** A finished job as its end is announced: the summary a receiver gets, and where to send it. */
export interface EndedJob {
  view: JobView;
  tenantId: string;
  webhookUrl: string | null;
}

export type WebhookOutbox = ReturnType<typeof createWebhookOutbox>;

export function createWebhookOutbox({ webhooks, queue, attempts, backoffMs, log }: WebhookOutboxDeps) {
  const enqueue = (deliveryId: string) =>
    queue.add('deliver', { deliveryId }, {
      jobId: deliveryId,
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: { age: DAY_MS / 1000 },
      removeOnFail: { age: (7 * DAY_MS) / 1000 },
    });

  return {
    /** Creates the job's delivery for its end (once) and queues it; nothing for a job without a webhook URL. */
    async jobEnded({ view, tenantId, webhookUrl }: EndedJob): Promise<void> {
      if (!webhookUrl) return;
      const id = randomUUID();
      const event = `job.${view.status}` as WebhookEvent;
      const body: WebhookBody = { id, type: event, createdAt: new Date().toISOString(), data: { job: view } };
      const delivery = await webhooks.create({ id, tenantId, jobId: view.id, event, url: webhookUrl, body: JSON.stringify(body) });
      if (delivery.status === 'pending') await enqueue(delivery.id);
    },

    /**
     * What a crash can leave behind, repaired from Postgres: jobs of the last day that ended with a webhook URL but no
     * delivery, and pending deliveries the queue lost (Redis flushed). `ended` announces a job by id.
     */
    async sweep(ended: (jobId: string) => Promise<void>): Promise<void> {
      for (const jobId of await webhooks.endedWithoutDelivery(new Date(Date.now() - DAY_MS))) await ended(jobId);
      for (const id of await webhooks.pendingIds()) {
        if ((await queue.getJobState(id)) !== 'unknown') continue;
        await enqueue(id);
        log.info({ deliveryId: id }, 're-enqueued a webhook delivery the queue had lost');
      }
    },
  };
}
