-- Owner: review. The audit chain is computed off the request path.
--
-- Until now every review action appended its row by taking the chain
-- head's row lock and holding it until its transaction committed: with 50
-- reviewers claiming at once every claim queued behind the others' commits
-- (make bench-review: review_audit_append was 95 % of PostgreSQL's time,
-- 280 ms a call). From here an action inserts its row into
-- review_audit_pending (a sequence, no lock shared with anyone) and one
-- chainer at a time (review_audit_chain, run by every serving process a few
-- times a second and by `muster audit verify` before it checks) moves
-- committed pending rows into review_audit: gap-free id, prev_hash and hash
-- exactly as before, so review.VerifyAudit reads the chain unchanged.

-- the canonical content hash of a chained row (the formula of 0011; Go:
-- review.chainHash)
CREATE FUNCTION review_audit_hash(p_prev bytea, p_id bigint, p_at timestamptz, p_actor text, p_action text, p_tenant uuid, p_design uuid, p_item bigint, p_data text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(p_prev || convert_to(
        'muster-review-audit-v1' || E'\n' || p_id::text || E'\n' || (extract(epoch FROM p_at) * 1000000)::bigint::text || E'\n' ||
        octet_length(p_actor)::text || ':' || p_actor || E'\n' || octet_length(p_action)::text || ':' || p_action || E'\n' ||
        coalesce(p_tenant::text, '') || E'\n' || coalesce(p_design::text, '') || E'\n' || coalesce(p_item, 0)::text || E'\n' ||
        octet_length(p_data)::text || ':' || p_data, 'UTF8'))
$$;

-- review_audit_pending: rows appended and committed, not yet chained
-- (normally for less than a second). Nobody updates them; only the chainer
-- deletes them, in the transaction that chains them.
CREATE TABLE review_audit_pending (
    seq       bigserial PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    tenant_id uuid,
    design_id uuid,
    item_id   bigint,
    data      text NOT NULL
);
ALTER TABLE review_audit_pending SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);

CREATE FUNCTION review_audit_pending_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('muster.review_audit_chainer', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'review_audit_pending: rows are only moved into the chain by review_audit_chain';
END $$;
CREATE TRIGGER review_audit_pending_no_change BEFORE UPDATE OR DELETE ON review_audit_pending
    FOR EACH ROW EXECUTE FUNCTION review_audit_pending_guard();

-- review_audit_append: one insert, no shared lock. Returns the row's
-- pending sequence number (not its chain id, which the chainer assigns).
CREATE OR REPLACE FUNCTION review_audit_append(p_actor text, p_action text, p_tenant uuid, p_design uuid, p_item bigint, p_data text)
RETURNS bigint LANGUAGE sql VOLATILE AS $$
    INSERT INTO review_audit_pending (at, actor, action, tenant_id, design_id, item_id, data)
    VALUES (date_trunc('microseconds', now()), p_actor, p_action, p_tenant, p_design, NULLIF(p_item, 0), p_data)
    RETURNING seq
$$;

-- review_audit_chain chains up to p_max committed pending rows, oldest
-- sequence first, under the head's row lock (chainers in several processes
-- take turns), and returns how many it chained.
CREATE FUNCTION review_audit_chain(p_max integer) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_last bigint;
    v_prev bytea;
    v_hash bytea;
    v_seqs bigint[] := '{}';
    r      record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM review_audit_pending) THEN
        RETURN 0;
    END IF;
    SELECT last_id INTO v_last FROM review_audit_head FOR UPDATE;
    IF v_last = 0 THEN
        v_prev := decode(repeat('00', 32), 'hex');
    ELSE
        SELECT hash INTO v_prev FROM review_audit WHERE id = v_last;
        IF v_prev IS NULL THEN
            RAISE EXCEPTION 'review_audit: row %, the chain''s last row, is missing', v_last;
        END IF;
    END IF;
    -- a new statement after the lock: its snapshot sees what the previous
    -- chainer committed, and every pending row committed so far
    FOR r IN SELECT * FROM review_audit_pending ORDER BY seq LIMIT p_max LOOP
        v_last := v_last + 1;
        v_hash := review_audit_hash(v_prev, v_last, r.at, r.actor, r.action, r.tenant_id, r.design_id, r.item_id, r.data);
        INSERT INTO review_audit (id, at, actor, action, tenant_id, design_id, item_id, data, prev_hash, hash)
        VALUES (v_last, r.at, r.actor, r.action, r.tenant_id, r.design_id, r.item_id, r.data, v_prev, v_hash);
        v_prev := v_hash;
        v_seqs := v_seqs || r.seq;
    END LOOP;
    IF cardinality(v_seqs) = 0 THEN
        RETURN 0;
    END IF;
    PERFORM set_config('muster.review_audit_chainer', 'on', true);
    DELETE FROM review_audit_pending WHERE seq = ANY (v_seqs);
    PERFORM set_config('muster.review_audit_chainer', 'off', true);
    UPDATE review_audit_head SET last_id = v_last;
    RETURN cardinality(v_seqs);
END $$;
