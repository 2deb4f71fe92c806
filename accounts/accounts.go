// Package accounts holds the console's users: reviewers, legal and admins of
// a tenant (the platform operator's users act platform-wide), their argon2id
// password hashes, sign-in throttling and lockout, server-side sessions with
// a CSRF token bound to each, and per-user preferences. It owns the tables of
// migration 0008_accounts. Passwords, session tokens and CSRF tokens are
// never logged nor stored in the clear (sessions are looked up by the
// sha256 of the cookie's token).
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Console roles. Merchants have API keys only, never console accounts.
const (
	RoleReviewer = "reviewer"
	RoleLegal    = "legal"
	RoleAdmin    = "admin"
)

// ValidRole reports whether r is a console role.
func ValidRole(r string) bool { return r == RoleReviewer || r == RoleLegal || r == RoleAdmin }

// Config tunes passwords, lockout and sessions.
type Config struct {
	// Params for new password hashes (DefaultParams).
	Params Params
	// HashConcurrency bounds argon2id hashes running at once (2): each uses
	// Params.MemoryKiB of memory.
	HashConcurrency int
	// MaxFailures consecutive failed sign-ins for one email within
	// LockoutWindow lock it until LockoutWindow after the first of them
	// (5 in 15 minutes). Unknown emails are counted the same way, so the
	// answer does not tell whether an account exists.
	MaxFailures   int
	LockoutWindow time.Duration
	// AddrMaxFailures failed sign-ins from one remote address within
	// AddrWindow throttle that address (30 in 15 minutes): password spraying
	// across many emails.
	AddrMaxFailures int
	AddrWindow      time.Duration
	// IdleTimeout ends a session not used for this long (30 minutes);
	// AbsoluteTimeout ends every session this long after sign-in (12 hours).
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
}

// WithDefaults fills in zero fields.
func (c Config) WithDefaults() Config {
	if c.Params == (Params{}) {
		c.Params = DefaultParams
	}
	if c.HashConcurrency <= 0 {
		c.HashConcurrency = 2
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 5
	}
	if c.LockoutWindow <= 0 {
		c.LockoutWindow = 15 * time.Minute
	}
	if c.AddrMaxFailures <= 0 {
		c.AddrMaxFailures = 30
	}
	if c.AddrWindow <= 0 {
		c.AddrWindow = 15 * time.Minute
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.AbsoluteTimeout <= 0 {
		c.AbsoluteTimeout = 12 * time.Hour
	}
	return c
}

// Service is the accounts store.
type Service struct {
	pool *pgxpool.Pool
	cfg  Config
	// hashing bounds concurrent argon2id computations.
	hashing chan struct{}
	// dummy is verified against for unknown emails so that their answer
	// takes as long as a wrong password's; made on first use.
	dummyOnce sync.Once
	dummy     string
}

// New returns the service.
func New(pool *pgxpool.Pool, cfg Config) *Service {
	cfg = cfg.WithDefaults()
	return &Service{pool: pool, cfg: cfg, hashing: make(chan struct{}, cfg.HashConcurrency)}
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := HashPassword(GeneratePassword(), s.cfg.Params)
		if err != nil {
			panic(err) // a generated password is always within bounds
		}
		s.dummy = h
	})
	return s.dummy
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Errors callers branch on.
var (
	// ErrInvalidCredentials: unknown email, wrong password or disabled user.
	ErrInvalidCredentials = errors.New("wrong email or password")
	// ErrNoSession: the token is unknown, expired or its user disabled.
	ErrNoSession = errors.New("no valid session")
	// ErrNotFound: no such user.
	ErrNotFound = errors.New("not found")
	// ErrExists: a user with that email exists.
	ErrExists = errors.New("a user with that email exists")
)

// LockedError says the email is locked after too many failed sign-ins.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "too many failed sign-ins: locked until " + e.Until.UTC().Format(time.RFC3339)
}

// ThrottledError says the remote address made too many failed sign-ins.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins from this address: retry in %s", e.RetryAfter.Round(time.Second))
}

// Prefs are a user's console preferences. The zero value is the safe
// default: sexual content blurred, colour images.
type Prefs struct {
	// UnblurSexual shows sexual content unblurred (reviewer wellness: off).
	UnblurSexual bool `json:"unblur_sexual,omitempty"`
	// Greyscale shows every design in greyscale.
	Greyscale bool `json:"greyscale,omitempty"`
	// HideShortcutHints hides the keyboard hints beside buttons.
	HideShortcutHints bool `json:"hide_shortcut_hints,omitempty"`
}

// User is a console user.
type User struct {
	ID         string
	TenantID   string
	TenantName string
	// Platform users belong to the platform operator's tenant and act on
	// every tenant's items.
	Platform    bool
	Email       string
	Name        string
	Role        string
	Prefs       Prefs
	LockedUntil *time.Time
	LastLoginAt *time.Time
	DisabledAt  *time.Time
	CreatedAt   time.Time
}

// Actor names the user in audit trails and verdicts: "user:<email>".
func (u User) Actor() string { return "user:" + u.Email }

// NewUser is what CreateUser needs.
type NewUser struct {
	TenantID string
	Email    string
	Name     string
	Role     string
	Password string
}

// NormalizeEmail lower-cases and trims an email and checks its form.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", fmt.Errorf("%q is not an email address", email)
	}
	return e, nil
}

// CreateUser creates a user with the password hashed under Config.Params.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	email, err := NormalizeEmail(nu.Email)
	if err != nil {
		return User{}, err
	}
	if !ValidRole(nu.Role) {
		return User{}, fmt.Errorf("unknown console role %q: want reviewer, legal or admin", nu.Role)
	}
	hash, err := s.hash(ctx, nu.Password)
	if err != nil {
		return User{}, err
	}
	var id string
	err = s.pool.QueryRow(ctx, `INSERT INTO console_users (tenant_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		nu.TenantID, email, nu.Name, nu.Role, hash).Scan(&id)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return User{}, fmt.Errorf("%s: %w", email, ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", email, err)
	}
	return s.User(ctx, id)
}

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return HashPassword(password, s.cfg.Params)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.hashing }

const userColumns = `u.id, u.tenant_id, t.name, t.platform, u.email, u.name, u.role, u.prefs, u.locked_until, u.last_login_at, u.disabled_at, u.created_at`

func scanUser(r pgx.Row, extra ...any) (User, error) {
	var u User
	var prefs []byte
	err := r.Scan(append([]any{&u.ID, &u.TenantID, &u.TenantName, &u.Platform, &u.Email, &u.Name, &u.Role, &prefs, &u.LockedUntil, &u.LastLoginAt, &u.DisabledAt, &u.CreatedAt}, extra...)...)
	if err != nil {
		return User{}, err
	}
	if err := json.Unmarshal(prefs, &u.Prefs); err != nil {
		return User{}, fmt.Errorf("user %s prefs: %w", u.Email, err)
	}
	return u, nil
}

// User returns a user by id or email.
func (s *Service) User(ctx context.Context, idOrEmail string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM console_users u JOIN tenants t ON t.id = u.tenant_id
		WHERE u.id::text = $1 OR u.email = lower($1)`, idOrEmail))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", idOrEmail, ErrNotFound)
	}
	return u, err
}

// Users lists the users of a tenant, or every user when tenantID is "".
func (s *Service) Users(ctx context.Context, tenantID string) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM console_users u JOIN tenants t ON t.id = u.tenant_id
		WHERE $1 = '' OR u.tenant_id::text = $1 ORDER BY u.email`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
}

// SetPassword replaces a user's password and ends all their sessions.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE console_users SET password_hash = $2, password_changed_at = now() WHERE id = $1`, userID, hash)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, userID)
		return err
	})
}

// SetDisabled disables (ending their sessions) or re-enables a user.
func (s *Service) SetDisabled(ctx context.Context, userID string, disabled bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE console_users SET disabled_at = CASE WHEN $2 THEN now() END WHERE id = $1`, userID, disabled)
		if err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if disabled {
			_, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, userID)
		}
		return err
	})
}

// Unlock lifts a lockout: the email's failed sign-ins are forgotten.
func (s *Service) Unlock(ctx context.Context, email string) error {
	e := strings.ToLower(strings.TrimSpace(email))
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_login_failures WHERE email = $1`, e); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE console_users SET failed_logins = 0, locked_until = NULL WHERE email = $1`, e)
		return err
	})
}

// SetPrefs stores a user's preferences.
func (s *Service) SetPrefs(ctx context.Context, userID string, p Prefs) error {
	b, _ := json.Marshal(p)
	tag, err := s.pool.Exec(ctx, `UPDATE console_users SET prefs = $2 WHERE id = $1`, userID, b)
	if err != nil {
		return fmt.Errorf("set prefs: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Meta describes the client of a sign-in, kept with the session.
type Meta struct {
	UserAgent  string
	RemoteAddr string
}

// Session is a signed-in user's session.
type Session struct {
	User User
	// CSRF is the synchronizer token every state-changing request of this
	// session must carry (form field or X-CSRF-Token header).
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenID(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Login checks an email and password and opens a new session, returning it
// and its token (for the cookie; shown once, stored only as its sha256).
// It answers ErrInvalidCredentials, *LockedError or *ThrottledError.
// Attempts for one email are serialised, so the lockout counts exactly.
func (s *Service) Login(ctx context.Context, email, password string, m Meta) (Session, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 {
		email = email[:254]
	}
	var (
		sess  Session
		token string
	)
	var fail error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var addrFails int
		var oldest *time.Time
		if err := tx.QueryRow(ctx, `SELECT count(*), min(at) FROM console_login_failures WHERE remote_addr = $1 AND at > now() - $2::interval`,
			m.RemoteAddr, s.cfg.AddrWindow.String()).Scan(&addrFails, &oldest); err != nil {
			return fmt.Errorf("sign-in throttle: %w", err)
		}
		if addrFails >= s.cfg.AddrMaxFailures && oldest != nil {
			fail = &ThrottledError{RetryAfter: max(time.Until(oldest.Add(s.cfg.AddrWindow)), time.Second)}
			return nil
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('muster-console-login:' || $1))`, email); err != nil {
			return err
		}
		var (
			hash    string
			known   = true
			sinceOK time.Time
		)
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+`, u.password_hash FROM console_users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = $1`, email), &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			known, hash = false, s.dummyHash()
		} else if err != nil {
			return fmt.Errorf("sign-in: %w", err)
		}
		if known && u.LastLoginAt != nil {
			sinceOK = *u.LastLoginAt
		}
		// The lock: MaxFailures failures of this email within the window,
		// since its last successful sign-in.
		rows, err := tx.Query(ctx, `SELECT at FROM console_login_failures WHERE email = $1 AND at > now() - $2::interval AND at > $3
			ORDER BY at DESC LIMIT $4`, email, s.cfg.LockoutWindow.String(), sinceOK, s.cfg.MaxFailures)
		if err != nil {
			return fmt.Errorf("sign-in lockout: %w", err)
		}
		recent, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			return fmt.Errorf("sign-in lockout: %w", err)
		}
		if len(recent) >= s.cfg.MaxFailures {
			fail = &LockedError{Until: recent[len(recent)-1].Add(s.cfg.LockoutWindow)}
			return nil
		}
		if err := s.acquire(ctx); err != nil {
			return err
		}
		ok, rehash, verr := VerifyPassword(hash, password, s.cfg.Params)
		s.release()
		if verr != nil && known {
			return fmt.Errorf("user %s: %w", email, verr)
		}
		if !ok || !known || u.DisabledAt != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO console_login_failures (email, remote_addr) VALUES ($1, $2)`, email, m.RemoteAddr); err != nil {
				return fmt.Errorf("record failure: %w", err)
			}
			fail = ErrInvalidCredentials
			if len(recent)+1 >= s.cfg.MaxFailures {
				oldest := time.Now()
				if len(recent) > 0 {
					oldest = recent[len(recent)-1]
				}
				until := oldest.Add(s.cfg.LockoutWindow)
				fail = &LockedError{Until: until}
				if known {
					if _, err := tx.Exec(ctx, `UPDATE console_users SET failed_logins = failed_logins + 1, locked_until = $2 WHERE id = $1`, u.ID, until); err != nil {
						return err
					}
				}
			} else if known {
				if _, err := tx.Exec(ctx, `UPDATE console_users SET failed_logins = failed_logins + 1 WHERE id = $1`, u.ID); err != nil {
					return err
				}
			}
			return nil
		}
		if rehash {
			if h, err := HashPassword(password, s.cfg.Params); err == nil {
				if _, err := tx.Exec(ctx, `UPDATE console_users SET password_hash = $2 WHERE id = $1`, u.ID, h); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE console_users SET last_login_at = now(), failed_logins = 0, locked_until = NULL WHERE id = $1`, u.ID); err != nil {
			return err
		}
		// Housekeeping: this user's expired sessions and day-old failures.
		if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1 AND (expires_at < now() OR last_seen_at < now() - $2::interval)`,
			u.ID, s.cfg.IdleTimeout.String()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM console_login_failures WHERE at < now() - interval '1 day'`); err != nil {
			return err
		}
		token = newToken()
		sess = Session{User: u, CSRF: newToken()}
		if err := tx.QueryRow(ctx, `INSERT INTO console_sessions (id, user_id, csrf_token, expires_at, user_agent, remote_addr)
			VALUES ($1, $2, $3, now() + $4::interval, $5, $6) RETURNING created_at, expires_at`,
			tokenID(token), u.ID, sess.CSRF, s.cfg.AbsoluteTimeout.String(), truncate(m.UserAgent, 300), truncate(m.RemoteAddr, 100)).
			Scan(&sess.CreatedAt, &sess.ExpiresAt); err != nil {
			return fmt.Errorf("open session: %w", err)
		}
		now := time.Now()
		sess.User.LastLoginAt = &now
		return nil
	})
	if err != nil {
		return Session{}, "", err
	}
	if fail != nil {
		return Session{}, "", fail
	}
	return sess, token, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Session returns the live session of a cookie token and marks it used
// (at most once a minute). Expired sessions (idle or absolute) and sessions
// of disabled users are ErrNoSession.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > 100 {
		return Session{}, ErrNoSession
	}
	var sess Session
	var lastSeen time.Time
	id := tokenID(token)
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+`, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at
		FROM console_sessions s JOIN console_users u ON u.id = s.user_id JOIN tenants t ON t.id = u.tenant_id
		WHERE s.id = $1 AND s.expires_at > now() AND s.last_seen_at > now() - $2::interval AND u.disabled_at IS NULL`,
		id, s.cfg.IdleTimeout.String()), &sess.CSRF, &sess.CreatedAt, &sess.ExpiresAt, &lastSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	sess.User = u
	if time.Since(lastSeen) > time.Minute {
		if _, err := s.pool.Exec(ctx, `UPDATE console_sessions SET last_seen_at = now() WHERE id = $1`, id); err != nil {
			return Session{}, fmt.Errorf("session: %w", err)
		}
	}
	return sess, nil
}

// Logout ends the session of a token (no error when there is none).
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, tokenID(token))
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// LogoutAll ends every session of a user.
func (s *Service) LogoutAll(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("logout all: %w", err)
	}
	return nil
}
