-- Owner: store. The event log becomes a hash chain, computed off the
-- verdict-recording path, in the shape of the review audit chain (0013).
--
-- An event is still one INSERT in the transaction that records its verdict
-- (no lock shared with any other writer). A chainer (events_chain, run by
-- every serving process a few times a second and by `muster audit verify`
-- before it checks) takes the chain head's row lock and gives every
-- committed, unchained event, in id order, the next gap-free chain_id, the
-- previous chained event's hash as prev_hash, and its hash. A row inserted
-- by a transaction that commits after a chainer ran simply gets a later
-- chain_id: the chain's order is the order in which rows became visible.
--
-- From here no event can be updated or deleted except by the chainer
-- setting the chain columns of an unchained row, once.

ALTER TABLE events
    ADD COLUMN chain_id  bigint UNIQUE,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash      bytea;
-- the chainer's work list: unchained rows, normally a few for under a second
CREATE INDEX events_unchained ON events (id) WHERE chain_id IS NULL;

CREATE TABLE events_chain_head (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id bigint NOT NULL DEFAULT 0
);
INSERT INTO events_chain_head DEFAULT VALUES;

-- the canonical content hash of a chained event (Go: store.eventChainHash):
--   sha256(prev || 'muster-event-v1' \n chain_id \n id \n created_at (Unix µs)
--     \n tenant \n design \n len:type \n len:actor \n len:data)
-- len in bytes; data is the jsonb's canonical text.
CREATE FUNCTION events_chain_hash(p_prev bytea, p_chain bigint, p_id bigint, p_at timestamptz, p_tenant uuid, p_design uuid, p_type text, p_actor text, p_data jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(p_prev || convert_to(
        'muster-event-v1' || E'\n' || p_chain::text || E'\n' || p_id::text || E'\n' ||
        (extract(epoch FROM date_trunc('microseconds', p_at)) * 1000000)::bigint::text || E'\n' ||
        coalesce(p_tenant::text, '') || E'\n' || coalesce(p_design::text, '') || E'\n' ||
        octet_length(p_type)::text || ':' || p_type || E'\n' ||
        octet_length(p_actor)::text || ':' || p_actor || E'\n' ||
        octet_length(p_data::text)::text || ':' || p_data::text, 'UTF8'))
$$;

-- the guard replaces 0001's update-only trigger
DROP TRIGGER events_no_update ON events;
CREATE FUNCTION events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('muster.events_chainer', true) = 'on'
        AND OLD.chain_id IS NULL AND NEW.chain_id IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
        AND NEW.id = OLD.id AND NEW.tenant_id IS NOT DISTINCT FROM OLD.tenant_id
        AND NEW.design_id IS NOT DISTINCT FROM OLD.design_id AND NEW.type = OLD.type
        AND NEW.actor = OLD.actor AND NEW.data = OLD.data AND NEW.created_at = OLD.created_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events is append-only (only events_chain sets an event''s chain columns, once)';
END $$;
CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_guard();

-- events_chain chains up to p_max committed unchained events, lowest id
-- first, under the head's row lock (chainers in several processes take
-- turns), and returns how many it chained.
CREATE FUNCTION events_chain(p_max integer) RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_last bigint;
    v_prev bytea;
    v_hash bytea;
    v_n    integer := 0;
    r      record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM events WHERE chain_id IS NULL) THEN
        RETURN 0;
    END IF;
    SELECT last_id INTO v_last FROM events_chain_head FOR UPDATE;
    IF v_last = 0 THEN
        v_prev := decode(repeat('00', 32), 'hex');
    ELSE
        SELECT hash INTO v_prev FROM events WHERE chain_id = v_last;
        IF v_prev IS NULL THEN
            RAISE EXCEPTION 'events: chain row %, the chain''s last row, is missing', v_last;
        END IF;
    END IF;
    PERFORM set_config('muster.events_chainer', 'on', true);
    -- a new statement after the lock: its snapshot sees what the previous
    -- chainer committed, and every event committed so far
    FOR r IN SELECT id, tenant_id, design_id, type, actor, data, created_at FROM events
            WHERE chain_id IS NULL ORDER BY id LIMIT p_max LOOP
        v_last := v_last + 1;
        v_hash := events_chain_hash(v_prev, v_last, r.id, r.created_at, r.tenant_id, r.design_id, r.type, r.actor, r.data);
        UPDATE events SET chain_id = v_last, prev_hash = v_prev, hash = v_hash WHERE id = r.id;
        v_prev := v_hash;
        v_n := v_n + 1;
    END LOOP;
    PERFORM set_config('muster.events_chainer', 'off', true);
    IF v_n > 0 THEN
        UPDATE events_chain_head SET last_id = v_last;
    END IF;
    RETURN v_n;
END $$;
