-- AlterTable
ALTER TABLE "Job" ADD COLUMN "sweepId" UUID,
ADD COLUMN "sweepTrial" INTEGER,
ADD COLUMN "sweepRung" INTEGER;

-- CreateTable
CREATE TABLE "Sweep" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "datasetId" UUID,
    "status" "JobStatus" NOT NULL DEFAULT 'queued',
    "strategy" TEXT NOT NULL,
    "objective" TEXT NOT NULL,
    "parallelism" INTEGER NOT NULL,
    "request" JSONB NOT NULL,
    "plan" JSONB NOT NULL,
    "rungEpochs" JSONB NOT NULL,
    "error" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Sweep_tenantId_createdAt_idx" ON "Sweep"("tenantId", "createdAt");

-- CreateIndex
CREATE INDEX "Sweep_status_idx" ON "Sweep"("status");

-- CreateIndex
CREATE UNIQUE INDEX "Job_sweepId_sweepTrial_sweepRung_key" ON "Job"("sweepId", "sweepTrial", "sweepRung");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Sweep" ADD CONSTRAINT "Sweep_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE SET NULL ON UPDATE CASCADE;
