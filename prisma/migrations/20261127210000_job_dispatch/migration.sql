-- AlterTable
ALTER TABLE "Job" ADD COLUMN "dispatchedAt" TIMESTAMP(3);

-- Jobs that were already active had been put on the queue when they were created (hand-written data step).
UPDATE "Job" SET "dispatchedAt" = "createdAt" WHERE "status" IN ('queued', 'running');
