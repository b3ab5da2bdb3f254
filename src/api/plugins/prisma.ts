import fp from 'fastify-plugin';
import { createDb, type Db } from '../../db/client.js';
import { datasetRepository, type DatasetRepository } from '../../db/datasets.js';
import { jobRepository, type JobRepository } from '../../db/jobs.js';
import { modelRepository, type ModelRepository } from '../../db/models.js';
import { registryRepository, type RegistryRepository } from '../../db/registry.js';
import { sweepRepository, type SweepRepository } from '../../db/sweeps.js';
import { tenantRepository, type TenantRepository } from '../../db/tenants.js';
import { webhookRepository, type WebhookRepository } from '../../db/webhooks.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    repos: { tenants: TenantRepository; datasets: DatasetRepository; jobs: JobRepository; models: ModelRepository; webhooks: WebhookRepository; registry: RegistryRepository; sweeps: SweepRepository };
  }
}

export default fp<{ databaseUrl: string }>(
  async (app, opts) => {
    const db = createDb(opts.databaseUrl);
    app.decorate('db', db);
    app.decorate('repos', {
      tenants: tenantRepository(db),
      datasets: datasetRepository(db),
      jobs: jobRepository(db),
      models: modelRepository(db),
      webhooks: webhookRepository(db),
      registry: registryRepository(db),
      sweeps: sweepRepository(db),
    });
    app.addHook('onClose', async () => db.$disconnect());
  },
  { name: 'prisma' },
);
