-- Deleting (DELETE /v1/datasets|jobs|models|tenants/:id). A job outlives its dataset (datasetId becomes null; the
-- API refuses while the job is queued or running) and a model outlives its job (jobId becomes null); a tenant's
-- datasets, jobs and models go with the tenant.

-- DropForeignKey
ALTER TABLE "Dataset" DROP CONSTRAINT "Dataset_tenantId_fkey";

-- DropForeignKey
ALTER TABLE "Job" DROP CONSTRAINT "Job_tenantId_fkey";

-- DropForeignKey
ALTER TABLE "Job" DROP CONSTRAINT "Job_datasetId_fkey";

-- DropForeignKey
ALTER TABLE "Model" DROP CONSTRAINT "Model_tenantId_fkey";

-- DropForeignKey
ALTER TABLE "Model" DROP CONSTRAINT "Model_jobId_fkey";

-- AlterTable
ALTER TABLE "Job" ALTER COLUMN "datasetId" DROP NOT NULL;

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Model" ADD CONSTRAINT "Model_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Model" ADD CONSTRAINT "Model_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE SET NULL ON UPDATE CASCADE;
