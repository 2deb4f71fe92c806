-- Owner: review. Review queues and their routing (data, editable), review
-- items created with the verdict that needs them, comments, appeals and the
-- hash-chained review audit log. Only the review package writes these
-- tables; it reads designs, verdicts and findings and writes verdicts and
-- events through the store.

-- review_queues: who may review what, and how long an item may wait.
CREATE TABLE review_queues (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    title       text NOT NULL CHECK (title <> ''),
    description text NOT NULL DEFAULT '',
    -- roles that may claim and decide this queue's items
    roles       text[] NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['reviewer', 'legal', 'admin']),
    -- an item older than this (creation → decision) breaches the SLA
    sla_seconds integer NOT NULL DEFAULT 86400 CHECK (sla_seconds > 0),
    -- the queue items go to when no route matches
    is_default  boolean NOT NULL DEFAULT false,
    position    integer NOT NULL DEFAULT 100,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT 'migration'
);
CREATE UNIQUE INDEX review_queues_one_default ON review_queues (is_default) WHERE is_default;

INSERT INTO review_queues (name, title, description, roles, sla_seconds, is_default, position) VALUES
    ('symbols',    'Hate and extremist symbols', 'Symbols and slogans that may be illegal (StGB §86a and the like)', '{reviewer,legal,admin}', 4 * 3600, false, 10),
    ('sexual',     'Sexual content',              'Explicit or suggestive imagery',                                 '{reviewer,admin}',       8 * 3600, false, 20),
    ('text',       'Text and slogans',            'Phrases and word marks read in the design or its listing',       '{reviewer,admin}',      24 * 3600, false, 30),
    ('trademarks', 'Trademarks',                  'Logos and word marks of registered trademarks',                  '{reviewer,legal,admin}', 24 * 3600, false, 40),
    ('general',    'General',                     'Everything no route sends elsewhere (incomplete analyses, rule errors)', '{reviewer,admin}', 24 * 3600, true, 50),
    ('appeals',    'Appeals',                     'Merchants'' complaints against a block (DSA Art. 20); four eyes', '{reviewer,legal,admin}', 72 * 3600, false, 60),
    ('qa',         'Quality sample',              'A share of automated allows and blocks, to measure precision',   '{reviewer,admin}',      72 * 3600, false, 70);

-- review_routes: which rule codes, rule names or finding types send an item
-- to which queue. Evaluated in position order; the first route matching any
-- of the item's reasons wins. Patterns are globs (path.Match).
CREATE TABLE review_routes (
    id         bigserial PRIMARY KEY,
    position   integer NOT NULL,
    match_on   text NOT NULL CHECK (match_on IN ('code', 'rule', 'finding')),
    pattern    text NOT NULL CHECK (pattern <> ''),
    queue      text NOT NULL REFERENCES review_queues (name) ON UPDATE CASCADE,
    -- added to the item's priority (higher is claimed first)
    priority   integer NOT NULL DEFAULT 0,
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT 'migration'
);

INSERT INTO review_routes (position, match_on, pattern, queue, priority, note) VALUES
    (10, 'code', 'extremist_*',     'symbols', 10, 'extremist symbols'),
    (11, 'code', 'totalitarian_*',  'symbols', 10, 'totalitarian symbols'),
    (12, 'code', 'communist_*',     'symbols', 10, 'communist symbols'),
    (13, 'code', 'aggression_*',    'symbols', 10, 'symbols of the war of aggression'),
    (14, 'code', 'religious_*',     'symbols', 0,  'religious symbols that look like banned ones'),
    (20, 'code', 'sexual_*',        'sexual',  5,  'sexual content'),
    (30, 'code', 'banned_slogan_*', 'text',    10, 'banned slogans'),
    (31, 'code', 'hate_phrase_*',   'text',    5,  'hate phrases and codes'),
    (32, 'finding', 'phrase',       'text',    0,  'phrase findings'),
    (40, 'code', 'trademark_*',     'trademarks', 0, 'logos'),
    (41, 'code', 'word_mark_*',     'trademarks', 0, 'word marks'),
    (42, 'code', 'custom_entry_*',  'trademarks', 0, 'custom bank entries');

-- review_items: one unit of review work. Open items are claimable unless
-- leased (lease_until in the future); an expired lease returns the item to
-- its queue without any sweeper.
CREATE TABLE review_items (
    id           bigserial PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    design_id    uuid NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('flagged', 'appeal', 'qa', 'redecide')),
    queue        text NOT NULL REFERENCES review_queues (name) ON UPDATE CASCADE,
    state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'decided', 'closed')),
    priority     integer NOT NULL DEFAULT 0,
    -- the verdict under review
    verdict_id   bigint NOT NULL,
    policy_version text NOT NULL DEFAULT '',
    -- why: rule codes and names that asked for review, the findings they relied on
    codes        text[] NOT NULL DEFAULT '{}',
    rules        text[] NOT NULL DEFAULT '{}',
    findings     jsonb NOT NULL DEFAULT '[]',
    -- per market automated outcome {"DE": "review", "US": "allow"}
    automated    jsonb NOT NULL,
    -- for redecide items: what the new policy would decide
    proposed     jsonb,
    appeal_id    bigint,
    -- reviewers who may not take this item (four eyes on appeals)
    excluded     text[] NOT NULL DEFAULT '{}',
    -- reviewers who skipped this item (not handed it again)
    skipped_by   text[] NOT NULL DEFAULT '{}',
    claimed_by   text,
    claimed_at   timestamptz,
    lease_until  timestamptz,
    claims       integer NOT NULL DEFAULT 0,
    escalations  integer NOT NULL DEFAULT 0,
    decided_by   text,
    decided_at   timestamptz,
    decision     jsonb,
    reason       text,
    note         text,
    result_verdict_id bigint,
    closed_reason text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- when the item (re-)entered its queue: creation, escalation
    ready_at     timestamptz NOT NULL DEFAULT now()
);
-- the claim order: priority, then oldest first
CREATE INDEX review_items_claim ON review_items (priority DESC, created_at, id) WHERE state = 'open';
CREATE INDEX review_items_queue_claim ON review_items (queue, priority DESC, created_at, id) WHERE state = 'open';
CREATE INDEX review_items_design ON review_items (design_id, id);
CREATE INDEX review_items_decided ON review_items (decided_at) WHERE state = 'decided';
-- at most one open item of a kind per design
CREATE UNIQUE INDEX review_items_one_open ON review_items (design_id, kind) WHERE state = 'open';
-- a re-decision under one policy version opens at most one item per design
CREATE UNIQUE INDEX review_items_redecide_once ON review_items (design_id, policy_version) WHERE kind = 'redecide';

-- review_comments: internal comments, never shown to merchants.
CREATE TABLE review_comments (
    id         bigserial PRIMARY KEY,
    item_id    bigint NOT NULL REFERENCES review_items (id) ON DELETE CASCADE,
    author     text NOT NULL,
    body       text NOT NULL CHECK (body <> '' AND length(body) <= 10000),
    kind       text NOT NULL DEFAULT 'comment' CHECK (kind IN ('comment', 'escalation', 'release')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_comments_item ON review_comments (item_id, id);

-- review_appeals: a merchant's complaint against a block (DSA Art. 20).
CREATE TABLE review_appeals (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    design_id   uuid NOT NULL REFERENCES designs (id) ON DELETE CASCADE,
    -- the verdict appealed; one appeal per verdict
    verdict_id  bigint NOT NULL UNIQUE,
    message     text NOT NULL CHECK (message <> '' AND length(message) <= 5000),
    filed_by    text NOT NULL,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'upheld', 'overturned', 'withdrawn')),
    decided_by  text,
    decided_at  timestamptz,
    reason      text,
    result_verdict_id bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_appeals_design ON review_appeals (design_id, id);

-- review_audit: every review action, hash-chained. Row n stores
-- sha256(hash of row n-1 || canonical content of row n); ids are gap-free
-- (taken from review_audit_head under its row lock), so an edited, deleted
-- or reordered row breaks the chain (muster audit verify).
CREATE TABLE review_audit (
    id        bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    tenant_id uuid,
    design_id uuid,
    item_id   bigint,
    -- data is the exact JSON text that was hashed
    data      text NOT NULL,
    prev_hash bytea NOT NULL,
    hash      bytea NOT NULL
);
CREATE INDEX review_audit_item ON review_audit (item_id, id);
CREATE INDEX review_audit_tenant ON review_audit (tenant_id, id);
CREATE INDEX review_audit_actor ON review_audit (actor, id);

-- the chain's head: the last id handed out. Appenders take its row lock as
-- the last statement of their transaction, which orders the chain.
CREATE TABLE review_audit_head (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_id bigint NOT NULL
);
INSERT INTO review_audit_head (last_id) VALUES (0);

CREATE FUNCTION review_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'review_audit is append-only';
END $$;
CREATE TRIGGER review_audit_no_change BEFORE UPDATE OR DELETE ON review_audit
    FOR EACH ROW EXECUTE FUNCTION review_audit_append_only();
