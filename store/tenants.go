package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Roles a key (and later a console user) can hold.
const (
	RoleMerchant = "merchant" // submit and read the tenant's designs
	RoleReviewer = "reviewer" // review flagged designs
	RoleLegal    = "legal"    // edit and publish policy
	RoleAdmin    = "admin"    // everything, including tenants and keys
)

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool {
	switch r {
	case RoleMerchant, RoleReviewer, RoleLegal, RoleAdmin:
		return true
	}
	return false
}

// Tenant is a platform customer (a merchant account or an integration).
type Tenant struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Platform bool   `json:"platform"`
	// Tier names the tenant's request rate and quota (TierFree, TierPaid).
	Tier       string    `json:"tier"`
	WebhookURL string    `json:"webhook_url,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// webhookSecret is only read by the webhook sender.
	webhookSecret string
}

// WebhookSecret returns the HMAC key for webhook signatures.
func (t Tenant) WebhookSecret() string { return t.webhookSecret }

// CreateTenant creates a tenant; when webhookURL is set, a webhook secret is
// generated and returned (once).
func (s *Store) CreateTenant(ctx context.Context, name, webhookURL string) (Tenant, string, error) {
	return s.createTenant(ctx, name, webhookURL, false)
}

// CreatePlatformTenant creates the platform operator's tenant, whose legal,
// reviewer and admin keys act on platform-wide resources.
func (s *Store) CreatePlatformTenant(ctx context.Context, name, webhookURL string) (Tenant, string, error) {
	return s.createTenant(ctx, name, webhookURL, true)
}

func (s *Store) createTenant(ctx context.Context, name, webhookURL string, platform bool) (Tenant, string, error) {
	var secret *string
	if webhookURL != "" {
		v := "whsec_" + randomToken(24)
		secret = &v
	}
	var t Tenant
	// The platform operator's own tenant is never throttled like a free one.
	tier := TierFree
	if platform {
		tier = TierPaid
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO tenants (name, webhook_url, webhook_secret, platform, tier) VALUES ($1, NULLIF($2, ''), $3, $4, $5)
		RETURNING id, name, platform, tier, coalesce(webhook_url, ''), created_at`, name, webhookURL, secret, platform, tier).
		Scan(&t.ID, &t.Name, &t.Platform, &t.Tier, &t.WebhookURL, &t.CreatedAt)
	if isUniqueViolation(err) {
		return Tenant{}, "", fmt.Errorf("tenant %q exists: %w", name, ErrConflict)
	}
	if err != nil {
		return Tenant{}, "", fmt.Errorf("create tenant %q: %w", name, err)
	}
	if secret != nil {
		return t, *secret, nil
	}
	return t, "", nil
}

// SetWebhook sets (or clears, with "") a tenant's webhook URL and returns a
// new secret when a URL is set.
func (s *Store) SetWebhook(ctx context.Context, tenantID, url string) (string, error) {
	secret := ""
	if url != "" {
		secret = "whsec_" + randomToken(24)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE tenants SET webhook_url = NULLIF($2, ''), webhook_secret = NULLIF($3, '') WHERE id = $1`, tenantID, url, secret)
	if err != nil {
		return "", fmt.Errorf("set webhook of tenant %s: %w", tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return "", ErrNotFound
	}
	return secret, nil
}

// Tenant returns one tenant by id or name.
func (s *Store) Tenant(ctx context.Context, idOrName string) (Tenant, error) {
	var t Tenant
	err := s.pool.QueryRow(ctx, `SELECT id, name, platform, tier, coalesce(webhook_url, ''), coalesce(webhook_secret, ''), created_at
		FROM tenants WHERE id::text = $1 OR name = $1`, idOrName).
		Scan(&t.ID, &t.Name, &t.Platform, &t.Tier, &t.WebhookURL, &t.webhookSecret, &t.CreatedAt)
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant %s: %w", idOrName, notFound(err))
	}
	return t, nil
}

// Tenants lists all tenants.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, platform, tier, coalesce(webhook_url, ''), created_at FROM tenants ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tenant, error) {
		var t Tenant
		err := r.Scan(&t.ID, &t.Name, &t.Platform, &t.Tier, &t.WebhookURL, &t.CreatedAt)
		return t, err
	})
}

// Principal is an authenticated caller.
type Principal struct {
	TenantID string
	KeyID    string
	// KeyPrefix is the key's public part, used to name the actor in audit logs.
	KeyPrefix string
	Role      string
	// Platform is true for keys of the platform operator's tenant.
	Platform bool
	// Tier is the tenant's tier (TierFree, TierPaid).
	Tier string
}

// Key is an API key's stored metadata (never the key itself).
type Key struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id"`
	Prefix    string     `json:"prefix"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// keyPrefix marks Muster API keys: mst_<8 hex>_<secret>.
const keyPrefix = "mst_"

// CreateKey creates an API key and returns the key itself, which is shown
// once: only its sha256 is stored.
func (s *Store) CreateKey(ctx context.Context, tenantID, role, name string) (string, Key, error) {
	if !ValidRole(role) {
		return "", Key{}, fmt.Errorf("unknown role %q: want merchant, reviewer, legal or admin", role)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := keyPrefix + hex.EncodeToString(b)
	plain := prefix + "_" + randomToken(32)
	sum := sha256.Sum256([]byte(plain))
	var k Key
	err := s.pool.QueryRow(ctx, `INSERT INTO api_keys (tenant_id, prefix, hash, name, role) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, tenant_id, prefix, name, role, created_at`, tenantID, prefix, sum[:], name, role).
		Scan(&k.ID, &k.TenantID, &k.Prefix, &k.Name, &k.Role, &k.CreatedAt)
	if err != nil {
		return "", Key{}, fmt.Errorf("create key for tenant %s: %w", tenantID, err)
	}
	return plain, k, nil
}

// Keys lists a tenant's keys.
func (s *Store) Keys(ctx context.Context, tenantID string) ([]Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, prefix, name, role, created_at, last_used_at, revoked_at
		FROM api_keys WHERE tenant_id = $1 ORDER BY created_at`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Key, error) {
		var k Key
		err := r.Scan(&k.ID, &k.TenantID, &k.Prefix, &k.Name, &k.Role, &k.CreatedAt, &k.LastUsed, &k.RevokedAt)
		return k, err
	})
}

// RevokeKey revokes a key by id or prefix.
func (s *Store) RevokeKey(ctx context.Context, idOrPrefix string) error {
	// The notification (same statement, delivered on commit) drops every
	// serving process's cache of authenticated keys.
	var n int
	if err := s.pool.QueryRow(ctx, `WITH u AS (UPDATE api_keys SET revoked_at = now() WHERE (id::text = $1 OR prefix = $1) AND revoked_at IS NULL RETURNING 1) `+
		notifyAuthSQL, idOrPrefix).Scan(&n); err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ErrUnauthenticated means the key is malformed, unknown or revoked.
var ErrUnauthenticated = fmt.Errorf("invalid or revoked API key")

// Authenticate resolves an API key to its principal.
func (s *Store) Authenticate(ctx context.Context, plain string) (Principal, error) {
	if !strings.HasPrefix(plain, keyPrefix) || len(plain) > 200 {
		return Principal{}, ErrUnauthenticated
	}
	prefix, _, ok := strings.Cut(plain[len(keyPrefix):], "_")
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(plain))
	now := time.Now()
	if e, ok := s.auth.get(sum, now); ok {
		s.touchKey(ctx, sum, e.p.KeyID, e.lastUsed, now)
		return e.p, nil
	}
	gen := s.auth.generation()
	var p Principal
	var hash []byte
	var revoked *time.Time
	var lastUsed *time.Time
	err := s.pool.QueryRow(ctx, `SELECT k.id, k.tenant_id, k.prefix, k.role, t.platform, t.tier, k.hash, k.revoked_at, k.last_used_at
		FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = $1`, keyPrefix+prefix).
		Scan(&p.KeyID, &p.TenantID, &p.KeyPrefix, &p.Role, &p.Platform, &p.Tier, &hash, &revoked, &lastUsed)
	if err != nil {
		if notFound(err) == ErrNotFound {
			return Principal{}, ErrUnauthenticated
		}
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(sum[:], hash) != 1 || revoked != nil {
		return Principal{}, ErrUnauthenticated
	}
	e := authEntry{p: p, at: now}
	if lastUsed != nil {
		e.lastUsed = *lastUsed
	}
	// Stored only if no key or tenant changed during the lookup (the
	// generation did not move) and the listener is connected.
	s.auth.put(sum, gen, e)
	s.touchKey(ctx, sum, p.KeyID, e.lastUsed, now)
	return p, nil
}

// touchKey records the key's use, best effort and at most once a minute
// per key: most requests skip the write.
func (s *Store) touchKey(ctx context.Context, sum [32]byte, keyID string, lastUsed, now time.Time) {
	if now.Sub(lastUsed) <= time.Minute {
		return
	}
	if _, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = now() WHERE id = $1`, keyID); err == nil {
		s.auth.touched(sum, now)
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
