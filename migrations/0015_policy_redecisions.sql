-- Owner: policy. Re-decisions become durable jobs (issue 12 item 8), as
-- backtests did in 0012: `POST /v1/policy/redecide` and a licence granted
-- or revoked queue a row here and answer 202; a JobRunner in every
-- run/serve/worker process claims it with a lease (FOR UPDATE SKIP LOCKED),
-- renews the lease and checkpoints (cursor_at, cursor_id, counters) after
-- every page, so a runner that dies is replaced by another that resumes at
-- the checkpoint. A re-run is idempotent: a design already under the live
-- version with the same outcome is skipped, so designs redone after the
-- last checkpoint are not written twice.
--
-- kind 'policy': every decided design created at or after since, under the
-- live version. kind 'licence': the tenant's decided designs with a finding
-- of (bank, entry_id), with the licence as it stands when the job runs.
-- dedupe_key: at most one queued job per key (a second request while one
-- waits returns the waiting job).
CREATE TABLE policy_redecisions (
    id             bigserial PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('policy', 'licence')),
    status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    requested_by   text NOT NULL CHECK (requested_by <> ''),
    since          timestamptz,
    tenant_id      uuid,
    bank           text,
    entry_id       text,
    event          text NOT NULL CHECK (event <> ''),
    dedupe_key     text NOT NULL,
    max_designs    integer NOT NULL DEFAULT 1000000 CHECK (max_designs > 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    max_attempts   integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    lease_owner    text,
    lease_until    timestamptz,
    heartbeat_at   timestamptz,
    cursor_at      timestamptz,
    cursor_id      uuid,
    version        text,
    progress_total integer NOT NULL DEFAULT 0,
    progress_done  integer NOT NULL DEFAULT 0,
    rewritten      integer NOT NULL DEFAULT 0,
    changed        integer NOT NULL DEFAULT 0,
    held           integer NOT NULL DEFAULT 0,
    changes        jsonb NOT NULL DEFAULT '[]',
    tenants        text[] NOT NULL DEFAULT '{}',
    truncated      boolean NOT NULL DEFAULT false,
    error          text,
    cancelled_by   text,
    CHECK ((kind = 'policy') = (since IS NOT NULL)),
    CHECK (kind <> 'licence' OR (tenant_id IS NOT NULL AND bank IS NOT NULL AND entry_id IS NOT NULL))
);
CREATE UNIQUE INDEX policy_redecisions_one_queued ON policy_redecisions (dedupe_key) WHERE status = 'queued';
CREATE INDEX policy_redecisions_claim ON policy_redecisions (id) WHERE status IN ('queued', 'running');
CREATE INDEX policy_redecisions_tenant ON policy_redecisions (tenant_id, id DESC);
