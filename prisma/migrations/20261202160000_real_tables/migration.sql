-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN "columns" JSONB,
ADD COLUMN "skippedRows" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Model" ADD COLUMN "evaluation" JSONB;
