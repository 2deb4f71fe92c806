-- Owner: accounts. Console users (reviewers, legal, admins) with argon2id
-- password hashes, server-side sessions, failed sign-in records for
-- throttling, and per-user preferences. API keys (api_keys) stay with store.

CREATE TABLE console_users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id           uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- email is stored lower-cased; it is the sign-in name.
    email               text NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email)),
    name                text NOT NULL DEFAULT '',
    role                text NOT NULL CHECK (role IN ('reviewer', 'legal', 'admin')),
    -- PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash. Never the password.
    password_hash       text NOT NULL,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    -- consecutive failed sign-ins since the last success, and the lockout
    -- they caused.
    failed_logins       integer NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    last_login_at       timestamptz,
    disabled_at         timestamptz,
    -- per-user console preferences (reviewer wellness: blur, greyscale; …).
    prefs               jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_users_tenant ON console_users (tenant_id);

CREATE TABLE console_sessions (
    -- sha256 of the cookie's token; the token itself is never stored.
    id           bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    -- synchronizer token for CSRF protection, bound to this session.
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- absolute expiry; idle expiry is last_seen_at + the idle timeout.
    expires_at   timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    remote_addr  text NOT NULL DEFAULT ''
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- Failed sign-ins (known and unknown emails alike), for per-address
-- throttling and the account's audit; pruned after a day.
CREATE TABLE console_login_failures (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL,
    remote_addr text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_login_failures_addr ON console_login_failures (remote_addr, at);
CREATE INDEX console_login_failures_at ON console_login_failures (at);
