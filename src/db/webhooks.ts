// Webhooks: the tenant's signing secret, the job's URL, and one delivery row per event (the outbox the worker's
// webhook queue works from).
import { randomBytes } from 'node:crypto';
import { finishedStatuses } from '../contracts/jobs.js';
import type { WebhookDeliveryView, WebhookEvent } from '../contracts/webhooks.js';
import type { Db } from './client.js';

export interface NewDelivery {
  id: string;
  tenantId: string;
  jobId: string;
  event: WebhookEvent;
  url: string;
  body: string;
}

export interface DeliveryToSend {
  id: string;
  event: WebhookEvent;
  url: string;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  secret: string;
}

export interface AttemptOutcome {
  ok: boolean;
  responseStatus: number | null;
  error: string | null;
  /** No attempt follows this one: a failure is final. */
  last: boolean;
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

type DeliveryRow = Omit<WebhookDeliveryView, 'createdAt' | 'updatedAt' | 'deliveredAt' | 'event'> & {
  event: string;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
};

function toView(row: DeliveryRow): WebhookDeliveryView {
  return {
    ...row,
    event: row.event as WebhookEvent,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}

const viewSelect = {
  id: true,
  jobId: true,
  event: true,
  url: true,
  status: true,
  attempts: true,
  lastError: true,
  responseStatus: true,
  createdAt: true,
  updatedAt: true,
  deliveredAt: true,
} as const;

export function webhookRepository(db: Db) {
  /** The tenant's secret, created on first use; concurrent first uses agree on one. */
  const secret = async (tenantId: string): Promise<string | null> => {
    await db.tenant.updateMany({ where: { id: tenantId, webhookSecret: null }, data: { webhookSecret: newSecret() } });
    const row = await db.tenant.findUnique({ where: { id: tenantId }, select: { webhookSecret: true } });
    return row?.webhookSecret ?? null;
  };

  return {
    secret,
    /** The tenant's secret as it is, never creating one: null until one is made; undefined when the tenant does not exist. */
    async currentSecret(tenantId: string): Promise<string | null | undefined> {
      const row = await db.tenant.findUnique({ where: { id: tenantId }, select: { webhookSecret: true } });
      return row ? row.webhookSecret : undefined;
    },
    /** A new secret; deliveries from now on are signed with it. Null when the tenant does not exist. */
    async rotateSecret(tenantId: string): Promise<string | null> {
      const { count } = await db.tenant.updateMany({ where: { id: tenantId }, data: { webhookSecret: newSecret() } });
      return count ? secret(tenantId) : null;
    },
    /** Inserts the delivery unless the job already has one for this event; returns the one that exists. */
    async create(delivery: NewDelivery): Promise<{ id: string; status: DeliveryToSend['status'] }> {
      await db.$executeRaw`
        INSERT INTO "WebhookDelivery" ("id", "tenantId", "jobId", "event", "url", "body", "updatedAt")
        VALUES (${delivery.id}::uuid, ${delivery.tenantId}::uuid, ${delivery.jobId}::uuid, ${delivery.event}, ${delivery.url}, ${delivery.body}, now())
        ON CONFLICT ("jobId", "event") DO NOTHING`;
      return db.webhookDelivery.findUniqueOrThrow({
        where: { jobId_event: { jobId: delivery.jobId, event: delivery.event } },
        select: { id: true, status: true },
      });
    },
    async toSend(id: string): Promise<DeliveryToSend | null> {
      const row = await db.webhookDelivery.findUnique({
        where: { id },
        select: { id: true, tenantId: true, event: true, url: true, body: true, status: true, tenant: { select: { webhookSecret: true } } },
      });
      if (!row) return null;
      const key = row.tenant.webhookSecret ?? (await secret(row.tenantId));
      return key ? { id: row.id, event: row.event as WebhookEvent, url: row.url, body: row.body, status: row.status, secret: key } : null;
    },
    async recordAttempt(id: string, outcome: AttemptOutcome): Promise<void> {
      const status = outcome.ok ? 'delivered' : outcome.last ? 'failed' : 'pending';
      await db.webhookDelivery.updateMany({
        where: { id, status: 'pending' },
        data: {
          attempts: { increment: 1 },
          status,
          responseStatus: outcome.responseStatus,
          ...(outcome.error ? { lastError: outcome.error.slice(0, 1000) } : {}),
          ...(outcome.ok ? { deliveredAt: new Date() } : {}),
        },
      });
    },
    /** Oldest first; null when the tenant has no such job. */
    async listForJob(tenantId: string, jobId: string): Promise<WebhookDeliveryView[] | null> {
      const job = await db.job.findFirst({ where: { id: jobId, tenantId }, select: { id: true } });
      if (!job) return null;
      const rows = await db.webhookDelivery.findMany({ where: { jobId }, select: viewSelect, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      return rows.map(toView);
    },
    /** Jobs that ended since `since` with a webhook URL and no delivery yet (their worker died before creating one). */
    async endedWithoutDelivery(since: Date, limit = 100): Promise<string[]> {
      const rows = await db.job.findMany({
        where: { finishedAt: { gte: since }, webhookUrl: { not: null }, status: { in: [...finishedStatuses] }, webhooks: { none: {} } },
        select: { id: true },
        take: limit,
      });
      return rows.map((r) => r.id);
    },
    pendingIds: async (limit = 1000): Promise<string[]> =>
      (await db.webhookDelivery.findMany({ where: { status: 'pending' }, select: { id: true }, orderBy: { createdAt: 'asc' }, take: limit })).map((r) => r.id),
  };
}
export type WebhookRepository = ReturnType<typeof webhookRepository>;
