-- Owner: store. The keyset index backtests and re-decisions page designs by
-- (moved out of 0003_policy, which now touches only the policy's tables), and
-- who made a verdict: a reviewer's decision records its author.
CREATE INDEX IF NOT EXISTS designs_created ON designs (created_at, id);
ALTER TABLE verdicts ADD COLUMN actor text;
