-- Owner: policy. Legal's workspace (issue 13): backtests become durable,
-- resumable, bounded jobs (issue 12 item 8), and a publication may wait for
-- a second approver.

-- policy_backtests: a job is claimed with a lease (lease_owner,
-- lease_until) that its runner renews with every page (heartbeat_at); a
-- runner that dies stops renewing, and another claims the job once the
-- lease has run out, resuming from the checkpoint (cursor_at, cursor_id,
-- partial: the result up to the cursor). attempts counts claims; past
-- max_attempts the job fails instead of looping. The window is fixed when
-- the job is queued (since .. created_at) so a resumed run covers the same
-- designs; max_designs bounds the work (truncated says it was reached).
ALTER TABLE policy_backtests
    ADD COLUMN attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN max_attempts integer NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
    ADD COLUMN max_designs  integer NOT NULL DEFAULT 200000 CHECK (max_designs > 0),
    ADD COLUMN since        timestamptz,
    ADD COLUMN lease_owner  text,
    ADD COLUMN lease_until  timestamptz,
    ADD COLUMN heartbeat_at timestamptz,
    ADD COLUMN cursor_at    timestamptz,
    ADD COLUMN cursor_id    uuid,
    ADD COLUMN partial      jsonb,
    ADD COLUMN cancelled_by text;
ALTER TABLE policy_backtests DROP CONSTRAINT policy_backtests_status_check;
ALTER TABLE policy_backtests ADD CONSTRAINT policy_backtests_status_check
    CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled'));
UPDATE policy_backtests SET since = created_at - make_interval(days => days) WHERE since IS NULL;
-- Backtests left 'running' by the old in-process goroutines are claimable:
-- their lease is already over.
UPDATE policy_backtests SET lease_until = now() WHERE status = 'running' AND lease_until IS NULL;
CREATE INDEX policy_backtests_claim ON policy_backtests (id) WHERE status IN ('queued', 'running');

-- policy_approvals: a publication that waits for a second legal approver.
-- The request names the draft revision and the sha256 of its content; the
-- approver publishes exactly that revision (a later edit supersedes the
-- request). The approver must be someone else.
CREATE TABLE policy_approvals (
    id             bigserial PRIMARY KEY,
    draft_revision bigint NOT NULL,
    base_version   integer REFERENCES policy_versions (version),
    content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    note           text NOT NULL CHECK (btrim(note) <> ''),
    requested_by   text NOT NULL CHECK (requested_by <> ''),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    decided_by     text,
    decided_at     timestamptz,
    decision_note  text,
    version        integer REFERENCES policy_versions (version),
    CHECK (status <> 'approved' OR decided_by <> requested_by)
);
CREATE UNIQUE INDEX policy_approvals_one_pending ON policy_approvals ((true)) WHERE status = 'pending';
