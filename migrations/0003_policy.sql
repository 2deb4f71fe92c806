-- Policy versioning (issue 5). One global policy for the platform: every
-- tenant is decided by the same live version; tenants differ only by their
-- allow-lists. Versions are immutable; a single draft is edited; a one-row
-- state table holds the live and shadow pointers.

CREATE TABLE policy_versions (
    version     integer PRIMARY KEY CHECK (version > 0),
    -- content is the canonical JSON document (policy.Document.Canonical).
    content     text NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    note        text NOT NULL CHECK (btrim(note) <> ''),
    author      text NOT NULL CHECK (author <> ''),
    author_role text NOT NULL,
    -- created_as: seed (default pack), publish, rollback, shadow.
    created_as  text NOT NULL CHECK (created_as IN ('seed', 'publish', 'rollback', 'shadow')),
    -- based_on is the live version when this one was made.
    based_on    integer REFERENCES policy_versions (version),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION policy_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is immutable', TG_TABLE_NAME;
END $$;
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_immutable();

-- policy_state is the single row of pointers. generation increases on every
-- pointer change so deciders can poll it cheaply.
CREATE TABLE policy_state (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    live_version   integer REFERENCES policy_versions (version),
    shadow_version integer REFERENCES policy_versions (version),
    generation     bigint NOT NULL DEFAULT 0,
    updated_by     text NOT NULL DEFAULT 'system',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO policy_state (id) VALUES (true);

-- policy_draft is the single editable draft.
CREATE TABLE policy_draft (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    content            text NOT NULL,
    -- revision increases on every save; publish may name the revision it
    -- validated so a concurrent edit is not published unseen.
    revision           bigint NOT NULL DEFAULT 1,
    -- base_version is the live version the draft was edited against.
    base_version       integer REFERENCES policy_versions (version),
    -- published_revision is the draft revision last made live.
    published_revision bigint,
    updated_by         text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- policy_audit records every change (append-only).
CREATE TABLE policy_audit (
    id         bigserial PRIMARY KEY,
    action     text NOT NULL,
    actor      text NOT NULL,
    role       text NOT NULL,
    version    integer,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER policy_audit_append_only BEFORE UPDATE OR DELETE ON policy_audit
    FOR EACH ROW EXECUTE FUNCTION policy_immutable();

-- policy_backtests: background evaluations of a draft over stored signals.
CREATE TABLE policy_backtests (
    id             bigserial PRIMARY KEY,
    status         text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    days           integer NOT NULL CHECK (days > 0),
    content        text NOT NULL,
    draft_revision bigint,
    base_version   integer REFERENCES policy_versions (version),
    requested_by   text NOT NULL,
    progress_done  integer NOT NULL DEFAULT 0,
    progress_total integer NOT NULL DEFAULT 0,
    result         jsonb,
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz
);

