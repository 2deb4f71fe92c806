-- Trademark and symbol banks (issue 3): banks, their entries with reference
-- hashes, an append-only audit of every change (each change bumps the bank's
-- version) and per-tenant allow-lists.

CREATE TABLE banks (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]*$'),
    kind        text NOT NULL CHECK (kind IN ('trademark', 'symbol', 'custom')),
    -- version increases by one with every change to the bank or its entries.
    version     bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    -- threshold is the verification score (outline F-score, 0..1) a match
    -- with this bank's entries needs.
    threshold   double precision NOT NULL DEFAULT 0.97 CHECK (threshold > 0 AND threshold <= 1),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bank_entries (
    bank           text NOT NULL REFERENCES banks (name) ON DELETE CASCADE,
    id             text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9._:-]*$'),
    label          text NOT NULL CHECK (label <> ''),
    owner          text NOT NULL DEFAULT '',
    -- ISO 3166-1 alpha-2 codes, 'EU', or 'WIPO:<designations>'.
    jurisdictions  text[] NOT NULL DEFAULT '{}',
    -- Nice classes 1..45.
    classes        integer[] NOT NULL DEFAULT '{}' CHECK (classes <@ ARRAY[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45]),
    famous         boolean NOT NULL DEFAULT false,
    word_marks     text[] NOT NULL DEFAULT '{}',
    source         text NOT NULL DEFAULT '',
    -- symbols: {"symbol", "orientation", "tilt_deg", "context", "religious"}.
    form           jsonb NOT NULL DEFAULT '{}',
    notes          text NOT NULL DEFAULT '',
    disabled       boolean NOT NULL DEFAULT false,
    -- a disabled entry with disabled_until in the past is active again.
    disabled_until timestamptz,
    disabled_note  text NOT NULL DEFAULT '',
    -- the reference image (PNG) and what the matcher needs from it: the
    -- encoded variant hashes and verification templates, the hashes again as
    -- plain 64-bit integers for SQL, and the algorithm that made them.
    reference_png  bytea,
    prepared       bytea NOT NULL,
    hashes         bigint[] NOT NULL,
    algorithm      text NOT NULL,
    version        bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bank, id)
);

CREATE TABLE bank_audit (
    id        bigserial PRIMARY KEY,
    bank      text NOT NULL,
    version   bigint NOT NULL,
    entry_id  text,
    tenant_id uuid,
    action    text NOT NULL CHECK (action IN ('create_bank', 'update_bank', 'add', 'update', 'delete',
                                             'disable', 'enable', 'allow', 'disallow')),
    actor     text NOT NULL CHECK (actor <> ''),
    at        timestamptz NOT NULL DEFAULT now(),
    change    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX bank_audit_bank_version ON bank_audit (bank, version);

CREATE TABLE bank_allowlist (
    bank       text NOT NULL,
    entry_id   text NOT NULL,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    evidence   text NOT NULL CHECK (evidence <> ''),
    expires_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bank, entry_id, tenant_id),
    FOREIGN KEY (bank, entry_id) REFERENCES bank_entries (bank, id) ON DELETE CASCADE
);
