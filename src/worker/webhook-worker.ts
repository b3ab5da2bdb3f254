// Sends webhook deliveries from the `webhooks` queue: POST the stored body, signed with the tenant's secret, and
// record each attempt. A failed attempt throws, so BullMQ retries it with exponential backoff (WEBHOOK_BACKOFF_MS
// doubling) up to WEBHOOK_MAX_ATTEMPTS; after the last one the delivery is marked failed.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { WEBHOOK_QUEUE, type WebhookJobData } from '../contracts/webhooks.js';
import type { AttemptOutcome, DeliveryToSend, WebhookRepository } from '../db/webhooks.js';
import type { QueueLogger } from '../queue/dispatcher.js';
import { webhookSignature } from './webhook-signature.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface WebhookWorkerDeps {
  connection: Redis;
  prefix: string;
  concurrency: number;
  timeoutMs: number;
  webhooks: WebhookRepository;
  metrics: WorkerMetrics;
  log: QueueLogger;
}

/** One POST. Redirects are not followed: the receiver must answer 2xx at the URL it gave. */
async function post(delivery: DeliveryToSend, timeoutMs: number): Promise<Omit<AttemptOutcome, 'last'>> {
  try {
    const res = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'backprop-service-webhooks/1',
        'x-event-id': delivery.id,
        'x-event-type': delivery.event,
        'x-signature': webhookSignature(delivery.secret, delivery.body),
      },
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, responseStatus: res.status, error: null };
    return { ok: false, responseStatus: res.status, error: `answered HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const error = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `request failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
    return { ok: false, responseStatus: null, error };
  }
}

export function startWebhookWorker({ connection, prefix, concurrency, timeoutMs, webhooks, metrics, log }: WebhookWorkerDeps): Worker<WebhookJobData> {
  const worker = new Worker<WebhookJobData>(
    WEBHOOK_QUEUE,
    async (job) => {
      const delivery = await webhooks.toSend(job.data.deliveryId);
      if (!delivery || delivery.status !== 'pending') return;
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await post(delivery, timeoutMs);
      metrics.webhookAttempt(outcome.ok ? 'delivered' : 'failed');
      await webhooks.recordAttempt(delivery.id, { ...outcome, last });
      if (!outcome.ok) {
        log.warn({ deliveryId: delivery.id, attempt: job.attemptsMade + 1, last, error: outcome.error }, 'webhook delivery failed');
        throw new Error(outcome.error ?? 'webhook delivery failed');
      }
    },
    { connection, prefix, concurrency },
  );
  worker.on('error', (err) => log.error({ err }, 'webhook worker error'));
  return worker;
}
