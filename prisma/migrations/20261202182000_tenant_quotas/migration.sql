-- AlterTable
ALTER TABLE "Tenant" ADD COLUMN "quotaStorageBytes" BIGINT,
ADD COLUMN "quotaDatasets" INTEGER,
ADD COLUMN "quotaModels" INTEGER;

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "modelBytes" INTEGER;

-- AlterTable
ALTER TABLE "Model" ADD COLUMN "weightBytes" INTEGER NOT NULL DEFAULT 0;

-- Models stored before: the decoded size of their padded base64 weight arrays (serializeModel's format).
UPDATE "Model" m SET "weightBytes" = COALESCE((
  SELECT sum(length(p.value) / 4 * 3 - CASE WHEN p.value LIKE '%==' THEN 2 WHEN p.value LIKE '%=' THEN 1 ELSE 0 END)
  FROM jsonb_array_elements(m."weights" -> 'weights') AS l(layer), jsonb_each_text(l.layer) AS p(key, value)
), 0)
WHERE jsonb_typeof(m."weights" -> 'weights') = 'array';
