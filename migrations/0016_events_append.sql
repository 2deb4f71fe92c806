-- Owner: store. events_append inserts one event and returns its id: the
-- store's one definition of an event row, for statements that record an
-- event together with the change it describes in a single round trip (the
-- review claim: pick, lease, event and audit row in one statement,
-- review.Service.Claim). It writes exactly what store.AppendEventTx
-- writes; the events chainer (0020) links it like any other event.
CREATE FUNCTION events_append(p_tenant uuid, p_design uuid, p_type text, p_actor text, p_data jsonb)
RETURNS bigint LANGUAGE sql VOLATILE AS $$
    INSERT INTO events (tenant_id, design_id, type, actor, data)
    VALUES (p_tenant, p_design, p_type, p_actor, coalesce(p_data, '{}'))
    RETURNING id
$$;
