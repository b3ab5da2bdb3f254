-- What a job's float32 products ran on (the gemm backend and OpenBLAS's thread ceiling), one entry per run whose
-- backend differed from the run before it, and the same list on the model the job made. Jobs and models from
-- before this was recorded have an empty list and null: their backend is not known.

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "backends" JSONB NOT NULL DEFAULT '[]';

-- AlterTable
ALTER TABLE "Model" ADD COLUMN "backends" JSONB;
