-- A cancelled job now holds its tenant's slot while "unfinishedRuns" > 0 (its run has not been seen to end), and the
-- worker sets it to 0 when the run stops. Jobs cancelled before that kept their count: their runs ended long ago.
UPDATE "Job" SET "unfinishedRuns" = 0 WHERE "status" = 'cancelled';
