-- Core schema: tenants, API keys, designs, analyses, findings, verdicts and
-- the append-only event log.

CREATE TABLE tenants (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL UNIQUE CHECK (name <> ''),
    webhook_url    text,
    -- HMAC-SHA256 key for webhook signatures. It must be readable to sign, so
    -- it is stored as is; it is never logged nor returned after creation.
    webhook_secret text,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- prefix is the public, unique part of the key used for lookup.
    prefix       text NOT NULL UNIQUE,
    -- hash is sha256 of the whole key; the key itself is never stored.
    hash         bytea NOT NULL,
    name         text NOT NULL DEFAULT '',
    role         text NOT NULL CHECK (role IN ('merchant', 'reviewer', 'legal', 'admin')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE designs (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes           bigint NOT NULL CHECK (bytes > 0),
    width           integer NOT NULL CHECK (width > 0),
    height          integer NOT NULL CHECK (height > 0),
    media_type      text NOT NULL,
    product         text NOT NULL,
    markets         text[] NOT NULL CHECK (cardinality(markets) > 0),
    title           text NOT NULL DEFAULT '',
    tags            text[] NOT NULL DEFAULT '{}',
    description     text NOT NULL DEFAULT '',
    -- submission_key identifies "the same submission" (bytes, product,
    -- markets) for de-duplication; NULL when the client forced a new analysis.
    submission_key  text,
    idempotency_key text,
    status          text NOT NULL CHECK (status IN ('queued', 'analyzing', 'decided', 'failed')),
    failure_reason  text,
    attempts        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    decided_at      timestamptz
);
CREATE UNIQUE INDEX designs_submission ON designs (tenant_id, submission_key) WHERE submission_key IS NOT NULL;
CREATE UNIQUE INDEX designs_idempotency ON designs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX designs_tenant_created ON designs (tenant_id, created_at DESC);
CREATE INDEX designs_status ON designs (status) WHERE status IN ('queued', 'analyzing', 'failed');

CREATE TABLE analyses (
    id          bigserial PRIMARY KEY,
    design_id   uuid NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    analyzer    text NOT NULL,
    version     text NOT NULL,
    result      jsonb NOT NULL,
    duration_ms double precision NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (design_id, analyzer)
);

CREATE TABLE findings (
    id         bigserial PRIMARY KEY,
    design_id  uuid NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    analyzer   text NOT NULL,
    type       text NOT NULL,
    bank       text NOT NULL DEFAULT '',
    entry_id   text NOT NULL DEFAULT '',
    label      text NOT NULL DEFAULT '',
    score      double precision NOT NULL,
    distance   integer,
    box        jsonb,
    attrs      jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX findings_design ON findings (design_id);
CREATE INDEX findings_entry ON findings (bank, entry_id);

CREATE TABLE verdicts (
    id             bigserial PRIMARY KEY,
    design_id      uuid NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- outcome is the strictest outcome over all markets.
    outcome        text NOT NULL CHECK (outcome IN ('allow', 'review', 'block')),
    policy_version text NOT NULL,
    -- decision is policy.Decision: per-market outcome and reasons.
    decision       jsonb NOT NULL,
    -- versions: analyzer name → version, bank and model versions, policy version.
    versions       jsonb NOT NULL,
    -- why this verdict was recorded: 'analysis' or 'redecide'.
    cause          text NOT NULL DEFAULT 'analysis',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX verdicts_design ON verdicts (design_id, id DESC);
CREATE INDEX verdicts_created ON verdicts (created_at);

-- events is append-only: every state change of a design or tenant.
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    tenant_id  uuid REFERENCES tenants (id) ON DELETE CASCADE,
    design_id  uuid REFERENCES designs (id) ON DELETE CASCADE,
    type       text NOT NULL,
    actor      text NOT NULL DEFAULT 'system',
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_design ON events (design_id, id);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only';
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
