// Sends webhook deliveries from the `webhooks` queue: POST the stored body, signed with the tenant's secret, and
// record each attempt. A failed attempt throws, so BullMQ retries it with exponential backoff (WEBHOOK_BACKOFF_MS
// doubling) up to WEBHOOK_MAX_ATTEMPTS; after the last one the delivery is marked failed. A URL whose host is not a
// public address (src/webhook-target.ts) fails at once: no retry would make it one.
import { Worker } from 'bullmq';
import type { RedisConnection } from '../queue/connection.js';
import { Agent, fetch } from 'undici';
import { WEBHOOK_QUEUE, type WebhookJobData } from '../contracts/webhooks.js';
import type { AttemptOutcome, DeliveryToSend, WebhookRepository } from '../db/webhooks.js';
import type { QueueLogger } from '../queue/dispatcher.js';
import { publicOnlyLookup, refusedHost, WebhookTargetRefused } from '../webhook-target.js';
import { webhookSignature } from './webhook-signature.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface WebhookWorkerDeps {
  connection: RedisConnection;
  prefix: string;
  concurrency: number;
  timeoutMs: number;
  /** WEBHOOK_ALLOW_PRIVATE_ADDRESSES */
  allowPrivateAddresses: boolean;
  webhooks: WebhookRepository;
  metrics: WorkerMetrics;
  log: QueueLogger;
}

/** `detail`: what went wrong as the network said it (addresses included), for the log only. */
type PostOutcome = Omit<AttemptOutcome, 'last'> & { refused: boolean; detail?: string };

/**
 * What a tenant reads in lastError about a failed connection: the kind of failure, never the error's own text,
 * which names the addresses our resolver and network answered (internal ones included).
 */
const CONNECT_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
};
const NOT_ALLOWED = 'refused: address not allowed (webhooks go to public addresses only)';

/**
 * One POST. Redirects are not followed: the receiver must answer 2xx at the URL it gave (and a redirect could lead
 * to a private address). `dispatcher` connects only to public addresses unless private ones are allowed.
 */
async function post(delivery: DeliveryToSend, timeoutMs: number, dispatcher: Agent | null): Promise<PostOutcome> {
  const refusedUrl = dispatcher ? refusedHost(delivery.url) : null;
  if (refusedUrl) return { ok: false, refused: true, responseStatus: null, error: NOT_ALLOWED, detail: refusedUrl };
  try {
    const res = await fetch(delivery.url, {
      ...(dispatcher ? { dispatcher } : {}),
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
    if (res.status >= 200 && res.status < 300) return { ok: true, refused: false, responseStatus: res.status, error: null };
    return { ok: false, refused: false, responseStatus: res.status, error: `answered HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const detail = e.cause?.message ?? e.message;
    if (e.cause instanceof WebhookTargetRefused) return { ok: false, refused: true, responseStatus: null, error: NOT_ALLOWED, detail };
    if (e.name === 'TimeoutError') return { ok: false, refused: false, responseStatus: null, error: `no answer within ${timeoutMs} ms`, detail };
    const kind = (e.cause?.code && CONNECT_FAILURES[e.cause.code]) || 'request failed';
    return { ok: false, refused: false, responseStatus: null, error: `request failed: ${kind}`, detail };
  }
}

export function startWebhookWorker(deps: WebhookWorkerDeps): Worker<WebhookJobData> {
  const { connection, prefix, concurrency, timeoutMs, allowPrivateAddresses, webhooks, metrics, log } = deps;
  const dispatcher = allowPrivateAddresses ? null : new Agent({ connect: { lookup: publicOnlyLookup } });
  const worker = new Worker<WebhookJobData>(
    WEBHOOK_QUEUE,
    async (job) => {
      const delivery = await webhooks.toSend(job.data.deliveryId);
      if (!delivery || delivery.status !== 'pending') return;
      const { refused, detail, ...outcome } = await post(delivery, timeoutMs, dispatcher);
      const last = refused || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      metrics.webhookAttempt(outcome.ok ? 'delivered' : 'failed');
      await webhooks.recordAttempt(delivery.id, { ...outcome, last });
      if (refused) {
        log.warn({ deliveryId: delivery.id, error: outcome.error, detail }, 'webhook refused');
        return;
      }
      if (!outcome.ok) {
        log.warn({ deliveryId: delivery.id, attempt: job.attemptsMade + 1, last, error: outcome.error, detail }, 'webhook delivery failed');
        throw new Error(outcome.error ?? 'webhook delivery failed');
      }
    },
    { connection, prefix, concurrency },
  );
  worker.on('error', (err) => log.error({ err }, 'webhook worker error'));
  worker.on('closed', () => void dispatcher?.close());
  return worker;
}
