import { z } from 'zod';
import type { JobView } from './jobs.js';

export const WEBHOOK_QUEUE = 'webhooks';

/** The BullMQ payload: the delivery row holds everything else (url, body, attempts). */
export interface WebhookJobData {
  deliveryId: string;
}

export const webhookEventSchema = z.enum(['job.succeeded', 'job.failed', 'job.cancelled']);
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** What a receiver gets: POST, JSON, with X-Event-Id (= id), X-Event-Type (= type) and X-Signature headers. */
export interface WebhookBody {
  /** The event id: the same on every retry, so receivers can deduplicate. */
  id: string;
  type: WebhookEvent;
  createdAt: string;
  data: { job: JobView };
}

export const webhookDeliverySchema = z
  .object({
    id: z.uuid().describe('The event id, sent as X-Event-Id and as the body\'s id'),
    jobId: z.uuid(),
    event: webhookEventSchema,
    url: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']).describe('failed: every attempt failed (WEBHOOK_MAX_ATTEMPTS)'),
    attempts: z.number().int(),
    lastError: z.string().nullable().describe('Why the last failed attempt failed; kept after a later success'),
    responseStatus: z.number().int().nullable().describe('HTTP status of the last attempt; null when it got no answer'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    deliveredAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDeliveryView = z.infer<typeof webhookDeliverySchema>;

export const webhookDeliveryListSchema = z.object({ items: z.array(webhookDeliverySchema) });

export const webhookSecretSchema = z.object({
  tenantId: z.uuid(),
  secret: z
    .string()
    .nullable()
    .describe('Key of the HMAC-SHA256 in X-Signature: sha256=<hex of HMAC(secret, raw body)>; null until one was made'),
});
