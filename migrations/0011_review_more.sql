-- Owner: review. Follows 0007_review (already applied where it was merged):
-- the audit chain is appended by one SQL function, and review_items is
-- tuned for its churn.

-- every claim and decision updates a row: room for HOT updates, and vacuum
-- and analyze often, so the claim keeps walking the claim index as the
-- table fills and drains
ALTER TABLE review_items SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02);

-- review_audit_append appends one row in one round trip (the head's lock is
-- held only for this call and the commit). The canonical content hashed is
--   muster-review-audit-v1 \n id \n at (Unix µs) \n len:actor \n len:action
--   \n tenant \n design \n item \n len:data
-- (len in bytes), which review.VerifyAudit recomputes in Go.
CREATE FUNCTION review_audit_append(p_actor text, p_action text, p_tenant uuid, p_design uuid, p_item bigint, p_data text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id   bigint;
    v_prev bytea;
    v_at   timestamptz := date_trunc('microseconds', now());
BEGIN
    UPDATE review_audit_head SET last_id = last_id + 1 RETURNING last_id INTO v_id;
    IF v_id = 1 THEN
        v_prev := decode(repeat('00', 32), 'hex');
    ELSE
        -- a new statement: its snapshot sees the row the previous holder
        -- of the head's lock committed
        SELECT hash INTO v_prev FROM review_audit WHERE id = v_id - 1;
        IF v_prev IS NULL THEN
            RAISE EXCEPTION 'review_audit: row %, the chain''s previous row, is missing', v_id - 1;
        END IF;
    END IF;
    INSERT INTO review_audit (id, at, actor, action, tenant_id, design_id, item_id, data, prev_hash, hash)
    VALUES (v_id, v_at, p_actor, p_action, p_tenant, p_design, NULLIF(p_item, 0), p_data, v_prev,
        sha256(v_prev || convert_to(
            'muster-review-audit-v1' || E'\n' || v_id::text || E'\n' || (extract(epoch FROM v_at) * 1000000)::bigint::text || E'\n' ||
            octet_length(p_actor)::text || ':' || p_actor || E'\n' || octet_length(p_action)::text || ':' || p_action || E'\n' ||
            coalesce(p_tenant::text, '') || E'\n' || coalesce(p_design::text, '') || E'\n' || coalesce(p_item, 0)::text || E'\n' ||
            octet_length(p_data)::text || ':' || p_data, 'UTF8')));
    RETURN v_id;
END $$;
