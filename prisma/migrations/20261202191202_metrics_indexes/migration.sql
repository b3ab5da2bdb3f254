-- GET /metrics reads, across tenants, the epochs stored in the last minute, the oldest queued job and the jobs
-- started in the last minutes: without these each scrape scanned the whole JobMetric table (about 0.5 s).

-- CreateIndex
CREATE INDEX "Job_status_createdAt_idx" ON "Job"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Job_startedAt_idx" ON "Job"("startedAt");

-- CreateIndex
CREATE INDEX "JobMetric_createdAt_idx" ON "JobMetric"("createdAt");
