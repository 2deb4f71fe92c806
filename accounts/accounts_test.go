package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/accounts"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type bundle struct {
	t      *testing.T
	pool   *pgxpool.Pool
	acc    *accounts.Service
	tenant store.Tenant
}

func setup(t *testing.T, cfg accounts.Config) *bundle {
	t.Helper()
	pool := pgtest.New(t)
	ten, _, err := store.New(pool).CreateTenant(context.Background(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Params == (accounts.Params{}) {
		cfg.Params = accounts.TestParams
	}
	return &bundle{t: t, pool: pool, acc: accounts.New(pool, cfg), tenant: ten}
}

const pw = "correct horse battery"

func (b *bundle) user(email, role string) accounts.User {
	b.t.Helper()
	u, err := b.acc.CreateUser(context.Background(), accounts.NewUser{TenantID: b.tenant.ID, Email: email, Role: role, Password: pw})
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := accounts.HashPassword(pw, accounts.TestParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(h, pw) {
		t.Fatalf("hash %q", h)
	}
	h2, _ := accounts.HashPassword(pw, accounts.TestParams)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name       string
		hash, pw   string
		params     accounts.Params
		ok, rehash bool
		err        bool
	}{
		{"right", h, pw, accounts.TestParams, true, false, false},
		{"wrong", h, pw + "x", accounts.TestParams, false, false, false},
		{"empty", h, "", accounts.TestParams, false, false, false},
		{"params raised: rehash", h, pw, accounts.DefaultParams, true, true, false},
		{"not argon2id", "$2a$10$abcdefghijklmnopqrstuv", pw, accounts.TestParams, false, false, true},
		{"absurd cost", "$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5", pw, accounts.TestParams, false, false, true},
	}
	for _, tt := range tests {
		ok, rehash, err := accounts.VerifyPassword(tt.hash, tt.pw, tt.params)
		if ok != tt.ok || rehash != tt.rehash || (err != nil) != tt.err {
			t.Errorf("%s: ok=%v rehash=%v err=%v", tt.name, ok, rehash, err)
		}
	}
	if _, err := accounts.HashPassword("short", accounts.TestParams); !errors.Is(err, accounts.ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
	if g := accounts.GeneratePassword(); len(g) != 20 || g == accounts.GeneratePassword() {
		t.Fatalf("generated %q", g)
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Config{})
	ctx := context.Background()
	u := b.user("Alice@Example.com ", accounts.RoleReviewer)
	if u.Email != "alice@example.com" || u.TenantName != "acme" || u.Platform || u.Actor() != "user:alice@example.com" {
		t.Fatalf("user %+v", u)
	}
	tests := []struct {
		name string
		nu   accounts.NewUser
		want error
	}{
		{"duplicate email, other case", accounts.NewUser{TenantID: b.tenant.ID, Email: "ALICE@example.com", Role: "reviewer", Password: pw}, accounts.ErrExists},
		{"merchant is not a console role", accounts.NewUser{TenantID: b.tenant.ID, Email: "m@example.com", Role: "merchant", Password: pw}, nil},
		{"not an email", accounts.NewUser{TenantID: b.tenant.ID, Email: "bob", Role: "reviewer", Password: pw}, nil},
		{"short password", accounts.NewUser{TenantID: b.tenant.ID, Email: "c@example.com", Role: "reviewer", Password: "abc"}, accounts.ErrWeakPassword},
	}
	for _, tt := range tests {
		_, err := b.acc.CreateUser(ctx, tt.nu)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	var stored string
	if err := b.pool.QueryRow(ctx, `SELECT password_hash FROM console_users WHERE id = $1`, u.ID).Scan(&stored); err != nil || strings.Contains(stored, pw) {
		t.Fatalf("stored %q %v", stored, err)
	}
}

func TestLoginSessionLogout(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Config{})
	ctx := context.Background()
	u := b.user("rev@example.com", accounts.RoleReviewer)
	meta := accounts.Meta{UserAgent: "test", RemoteAddr: "192.0.2.1"}
	sess, token, err := b.acc.Login(ctx, "REV@example.com", pw, meta)
	if err != nil {
		t.Fatal(err)
	}
	if sess.User.ID != u.ID || sess.CSRF == "" || token == "" || sess.CSRF == token || sess.ExpiresAt.Sub(sess.CreatedAt) != 12*time.Hour {
		t.Fatalf("session %+v", sess)
	}
	got, err := b.acc.Session(ctx, token)
	if err != nil || got.User.Email != "rev@example.com" || got.CSRF != sess.CSRF {
		t.Fatalf("session lookup: %+v %v", got, err)
	}
	// The token is stored only as its hash.
	var n int
	b.pool.QueryRow(ctx, `SELECT count(*) FROM console_sessions WHERE id::text LIKE '%' || $1 || '%' OR csrf_token = $1`, token).Scan(&n)
	if n != 0 {
		t.Fatal("the session token is stored in the clear")
	}
	// A second sign-in is a new session with a new token and CSRF token.
	sess2, token2, err := b.acc.Login(ctx, "rev@example.com", pw, meta)
	if err != nil || token2 == token || sess2.CSRF == sess.CSRF {
		t.Fatalf("second sign-in: %v", err)
	}
	if err := b.acc.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := b.acc.Session(ctx, token); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("after logout: %v", err)
	}
	if _, err := b.acc.Session(ctx, token2); err != nil {
		t.Fatalf("the other session ended too: %v", err)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("x", 500)} {
		if _, err := b.acc.Session(ctx, bad); !errors.Is(err, accounts.ErrNoSession) {
			t.Fatalf("token %q: %v", bad, err)
		}
	}
	// Password change ends every session.
	if err := b.acc.SetPassword(ctx, u.ID, "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.acc.Session(ctx, token2); !errors.Is(err, accounts.ErrNoSession) {
		t.Fatalf("after password change: %v", err)
	}
	if _, _, err := b.acc.Login(ctx, "rev@example.com", pw, meta); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("old password: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Config{})
	ctx := context.Background()
	u := b.user("rev@example.com", accounts.RoleReviewer)
	tests := []struct {
		name, update string
	}{
		{"idle", `UPDATE console_sessions SET last_seen_at = now() - interval '31 minutes'`},
		{"absolute", `UPDATE console_sessions SET expires_at = now() - interval '1 second'`},
		{"disabled user", `UPDATE console_users SET disabled_at = now()`},
	}
	for _, tt := range tests {
		b.pool.Exec(ctx, `UPDATE console_users SET disabled_at = NULL`)
		_, token, err := b.acc.Login(ctx, u.Email, pw, accounts.Meta{RemoteAddr: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.pool.Exec(ctx, tt.update); err != nil {
			t.Fatal(err)
		}
		if _, err := b.acc.Session(ctx, token); !errors.Is(err, accounts.ErrNoSession) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if _, _, err := b.acc.Login(ctx, u.Email, pw, accounts.Meta{}); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("disabled user signs in: %v", err)
	}
}

func TestLockout(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Config{MaxFailures: 3})
	ctx := context.Background()
	b.user("rev@example.com", accounts.RoleReviewer)
	meta := accounts.Meta{RemoteAddr: "192.0.2.1"}
	for _, email := range []string{"rev@example.com", "nobody@example.com"} {
		for i := range 3 {
			_, _, err := b.acc.Login(ctx, email, "wrong password!", meta)
			var le *accounts.LockedError
			if i < 2 && !errors.Is(err, accounts.ErrInvalidCredentials) || i == 2 && !errors.As(err, &le) {
				t.Fatalf("%s attempt %d: %v", email, i, err)
			}
		}
		// Locked: even the right password is refused, and unknown emails
		// answer the same way as known ones.
		_, _, err := b.acc.Login(ctx, email, pw, meta)
		var le *accounts.LockedError
		if !errors.As(err, &le) || time.Until(le.Until) < 14*time.Minute {
			t.Fatalf("%s while locked: %v", email, err)
		}
	}
	u, _ := b.acc.User(ctx, "rev@example.com")
	if u.LockedUntil == nil {
		t.Fatal("lock not shown on the user")
	}
	if err := b.acc.Unlock(ctx, "rev@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.acc.Login(ctx, "rev@example.com", pw, meta); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	// The lock lifts when the window passes.
	for range 3 {
		b.acc.Login(ctx, "rev@example.com", "wrong password!", meta)
	}
	b.pool.Exec(ctx, `UPDATE console_login_failures SET at = at - interval '16 minutes'`)
	if _, _, err := b.acc.Login(ctx, "rev@example.com", pw, meta); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestAddressThrottle(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Config{AddrMaxFailures: 4})
	ctx := context.Background()
	b.user("rev@example.com", accounts.RoleReviewer)
	for i := range 4 {
		b.acc.Login(ctx, "spray"+string(rune('a'+i))+"@example.com", "wrong password!", accounts.Meta{RemoteAddr: "198.51.100.7"})
	}
	var te *accounts.ThrottledError
	if _, _, err := b.acc.Login(ctx, "rev@example.com", pw, accounts.Meta{RemoteAddr: "198.51.100.7"}); !errors.As(err, &te) || te.RetryAfter <= 0 {
		t.Fatalf("sprayed address: %v", err)
	}
	if _, _, err := b.acc.Login(ctx, "rev@example.com", pw, accounts.Meta{RemoteAddr: "198.51.100.8"}); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Config{})
	ctx := context.Background()
	b.user("rev@example.com", accounts.RoleReviewer)
	stronger := accounts.New(b.pool, accounts.Config{Params: accounts.Params{MemoryKiB: 2048, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if _, _, err := stronger.Login(ctx, "rev@example.com", pw, accounts.Meta{}); err != nil {
		t.Fatal(err)
	}
	var h string
	b.pool.QueryRow(ctx, `SELECT password_hash FROM console_users`).Scan(&h)
	if !strings.Contains(h, "m=2048") {
		t.Fatalf("not re-hashed: %s", h)
	}
}

func TestPrefs(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Config{})
	ctx := context.Background()
	u := b.user("rev@example.com", accounts.RoleReviewer)
	if u.Prefs != (accounts.Prefs{}) {
		t.Fatalf("default prefs %+v: sexual content must be blurred by default", u.Prefs)
	}
	want := accounts.Prefs{UnblurSexual: true, Greyscale: true}
	if err := b.acc.SetPrefs(ctx, u.ID, want); err != nil {
		t.Fatal(err)
	}
	got, _ := b.acc.User(ctx, u.ID)
	if got.Prefs != want {
		t.Fatalf("prefs %+v", got.Prefs)
	}
}
