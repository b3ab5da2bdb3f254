-- AlterTable
ALTER TABLE "Dataset" ADD COLUMN "sequenceLength" INTEGER,
ADD COLUMN "targetSteps" INTEGER;
