-- Owner: webhook. The delivery log, moved out of 0001_core (which now holds
-- only the store's tables); IF NOT EXISTS keeps databases migrated before
-- the move valid.
-- webhook_deliveries records every attempt to notify a tenant.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    design_id   uuid REFERENCES designs (id) ON DELETE CASCADE,
    verdict_id  bigint,
    url         text NOT NULL,
    status_code integer,
    error       text,
    attempt     integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_tenant ON webhook_deliveries (tenant_id, id DESC);
