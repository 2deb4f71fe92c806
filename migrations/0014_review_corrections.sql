-- Owner: review. Reviewers' "not this mark" corrections: a trademark or
-- symbol finding a reviewer marked wrong. Written only by the review
-- package (review.Service.MarkFindingWrong, audited in the same
-- transaction); read by the bank package (bank.Store.Corrected: the bank
-- analyzer does not raise the entry again for the same design bytes;
-- bank.Store.Misfires: the count per entry the bank owner sees).

CREATE TABLE review_corrections (
    id         bigserial PRIMARY KEY,
    -- the design's content: the same bytes never raise the entry again
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bank       text NOT NULL,
    entry_id   text NOT NULL,
    -- NULL: made by the platform operator's staff, applies to every
    -- tenant's designs with these bytes; otherwise only to that tenant's
    -- (a marketplace's own reviewers cannot switch detection off for others)
    scope_tenant uuid REFERENCES tenants (id) ON DELETE CASCADE,
    -- where it was made
    tenant_id  uuid NOT NULL,
    design_id  uuid NOT NULL,
    item_id    bigint,
    finding_type text NOT NULL,
    label      text NOT NULL DEFAULT '',
    note       text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- one correction per bytes, entry and scope
CREATE UNIQUE INDEX review_corrections_once ON review_corrections (sha256, bank, entry_id, coalesce(scope_tenant, '00000000-0000-0000-0000-000000000000'));
-- misfire counts per entry
CREATE INDEX review_corrections_entry ON review_corrections (bank, entry_id);

-- review_audit: a tenant's list of who viewed its designs
-- (GET /v1/designs/{id}/access) reads the log by design
CREATE INDEX review_audit_design ON review_audit (design_id, id) WHERE design_id IS NOT NULL;
