-- Each epoch records the learning rate its updates used (learning-rate schedules). Every epoch stored before
-- schedules trained at its job's constant optimizer rate, so that rate fills the rows already there.

-- AlterTable
ALTER TABLE "JobMetric" ADD COLUMN "learningRate" DOUBLE PRECISION;

UPDATE "JobMetric" AS m SET "learningRate" = (j."training" -> 'optimizer' ->> 'learningRate')::DOUBLE PRECISION
FROM "Job" AS j WHERE j."id" = m."jobId";
