-- Owner: store. Durable side work and per-tenant limits.
--
-- outbox: messages that must reach NATS after a transaction commits (a
-- submitted design, a recorded or changed verdict, a failed design), written
-- in the same transaction as the change they announce. The relay publishes
-- them with their msg_id as Nats-Msg-Id (JetStream drops a repeat within the
-- stream's duplicate window) and marks them sent; a crash between commit and
-- publish leaves the row unsent for the next relay pass.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    topic      text NOT NULL CHECK (topic IN ('design.submitted', 'verdict.event')),
    msg_id     text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    attempts   integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- A tenant's tier names its request rate and queued-design quota (numbers
-- in the configuration: MUSTER_TIER_FREE, MUSTER_TIER_PAID).
ALTER TABLE tenants ADD COLUMN tier text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'paid'));

-- rate_buckets: GCRA state per tenant and bucket (the theoretical arrival
-- time), shared by every API instance. Unlogged: after a crash the buckets
-- start full again, which only forgives a moment of traffic.
CREATE UNLOGGED TABLE rate_buckets (
    tenant_id uuid NOT NULL,
    bucket    text NOT NULL,
    tat       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, bucket)
);

-- Blob collection asks whether any design still references a blob; the
-- queued-design quota counts a tenant's unfinished designs.
CREATE INDEX designs_sha256 ON designs (sha256);
CREATE INDEX designs_tenant_pending ON designs (tenant_id) WHERE status IN ('queued', 'analyzing');
