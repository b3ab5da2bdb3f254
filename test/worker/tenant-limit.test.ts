// TENANT_MAX_CONCURRENT_JOBS: a tenant's further jobs wait queued in Postgres (not on the queue) and start, oldest
// first, as its running ones finish; other tenants are not held up by it.
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { submitJob, uploadSlowDataset } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';

describe('concurrent jobs per tenant', () => {
  // No worker yet: the test checks what is on the queue before one starts.
  const service = useTestService({ env: { TENANT_MAX_CONCURRENT_JOBS: '1', WORKER_CONCURRENCY: '2', RECONCILE_INTERVAL_MS: '1000' }, audit: true });

  it('runs one job of a tenant at a time, in order, while another tenant\'s job runs alongside', async () => {
    const { app, audit } = service;
    const a = (await createTenant(app, 'a')).apiKey;
    const b = (await createTenant(app, 'b')).apiKey;
    const [datasetA, datasetB] = [await uploadSlowDataset(app, a), await uploadSlowDataset(app, b)];
    const jobsA: string[] = [];
    for (let i = 0; i < 3; i++) jobsA.push(await submitJob(app, a, datasetA, 40));
    const jobB = await submitJob(app, b, datasetB, 40);

    // Before any worker runs: all queued, but only the first of tenant a (and b's) is on the queue.
    const onQueue = async (id: string) => (await app.queue.getJob(id)) !== undefined;
    expect(await Promise.all(jobsA.map(onQueue))).toEqual([true, false, false]);
    expect(await onQueue(jobB)).toBe(true);
    const statuses = await audit.query<{ status: string }>('SELECT status FROM "Job" WHERE id = ANY($1::uuid[])', [[...jobsA, jobB]]);
    expect(statuses.map((s) => s.status)).toEqual(['queued', 'queued', 'queued', 'queued']);

    await service.startWorker();
    let maxRunningA = 0;
    let sawBothTenantsRunning = false;
    await waitFor('every job to finish', async () => {
      const rows = await audit.query<{ id: string; status: string }>('SELECT id, status FROM "Job" WHERE id = ANY($1::uuid[])', [[...jobsA, jobB]]);
      const runningA = rows.filter((r) => jobsA.includes(r.id) && r.status === 'running').length;
      maxRunningA = Math.max(maxRunningA, runningA);
      if (runningA === 1 && rows.some((r) => r.id === jobB && r.status === 'running')) sawBothTenantsRunning = true;
      return rows.every((r) => r.status === 'succeeded');
    }, 60_000, 25);

    expect(maxRunningA).toBe(1);
    expect(sawBothTenantsRunning).toBe(true);
    // Tenant a's jobs ran one after the other, oldest first.
    const timeline = await audit.query<{ id: string; startedAt: Date; finishedAt: Date }>(
      'SELECT id, "startedAt", "finishedAt" FROM "Job" WHERE id = ANY($1::uuid[]) ORDER BY "startedAt"', [jobsA]);
    expect(timeline.map((t) => t.id)).toEqual(jobsA);
    for (let i = 1; i < timeline.length; i++) expect(timeline[i].startedAt.getTime()).toBeGreaterThanOrEqual(timeline[i - 1].finishedAt.getTime());
  });
});
