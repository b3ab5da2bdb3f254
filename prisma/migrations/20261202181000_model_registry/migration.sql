-- AlterTable
ALTER TABLE "Job" ADD COLUMN "modelName" TEXT;

-- CreateTable
CREATE TABLE "RegisteredModel" (
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "latestVersion" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RegisteredModel_pkey" PRIMARY KEY ("tenantId","name")
);

-- CreateTable
CREATE TABLE "ModelVersion" (
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "modelId" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelVersion_pkey" PRIMARY KEY ("tenantId","name","version")
);

-- CreateTable
CREATE TABLE "ModelAlias" (
    "tenantId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "alias" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ModelAlias_pkey" PRIMARY KEY ("tenantId","name","alias")
);

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_modelId_key" ON "ModelVersion"("modelId");

-- CreateIndex
CREATE INDEX "ModelAlias_tenantId_name_version_idx" ON "ModelAlias"("tenantId", "name", "version");

-- AddForeignKey
ALTER TABLE "RegisteredModel" ADD CONSTRAINT "RegisteredModel_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "Tenant"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_tenantId_name_fkey" FOREIGN KEY ("tenantId", "name") REFERENCES "RegisteredModel"("tenantId", "name") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelAlias" ADD CONSTRAINT "ModelAlias_tenantId_name_version_fkey" FOREIGN KEY ("tenantId", "name", "version") REFERENCES "ModelVersion"("tenantId", "name", "version") ON DELETE CASCADE ON UPDATE CASCADE;
