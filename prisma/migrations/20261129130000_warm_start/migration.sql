-- AlterTable
ALTER TABLE "Job" ADD COLUMN "initialModelId" UUID;
