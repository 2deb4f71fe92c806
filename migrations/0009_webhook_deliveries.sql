-- Owner: webhook. Every delivery carries the delivery id receivers
-- de-duplicate on (the same for every attempt of one event), the event type
-- and how long the receiver took; tenants page their deliveries by id
-- through GET /v1/webhooks/deliveries (index webhook_deliveries_tenant).
ALTER TABLE webhook_deliveries
    ADD COLUMN delivery_id text,
    ADD COLUMN event_type  text,
    ADD COLUMN duration_ms double precision;
CREATE INDEX webhook_deliveries_delivery ON webhook_deliveries (delivery_id);
