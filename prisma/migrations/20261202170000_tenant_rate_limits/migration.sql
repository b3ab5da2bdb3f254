-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN "rateLimitMax" INTEGER,
ADD COLUMN "predictRateLimitMax" INTEGER;
