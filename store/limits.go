package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Tiers a tenant can be on; the numbers behind them are configuration.
const (
	TierFree = "free"
	TierPaid = "paid"
)

// ValidTier reports whether t is a known tier.
func ValidTier(t string) bool { return t == TierFree || t == TierPaid }

// QuotaError is returned by InsertDesign when the tenant already has its
// quota of unfinished (queued or analysing) designs.
type QuotaError struct {
	Limit, Pending int
}

// Error implements error.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("the tenant has %d designs waiting for a verdict, its quota is %d", e.Pending, e.Limit)
}

// ErrQuota matches any *QuotaError with errors.Is.
var ErrQuota = errors.New("quota exceeded")

// Is makes errors.Is(err, ErrQuota) true.
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// SetTenantTier puts a tenant (by id or name) on a tier.
func (s *Store) SetTenantTier(ctx context.Context, idOrName, tier string) error {
	if !ValidTier(tier) {
		return fmt.Errorf("unknown tier %q: want free or paid", tier)
	}
	// The notification (same statement, delivered on commit) drops every
	// serving process's cache of authenticated keys, which carry the tier.
	var n int
	if err := s.pool.QueryRow(ctx, `WITH u AS (UPDATE tenants SET tier = $2 WHERE id::text = $1 OR name = $1 RETURNING 1) `+notifyAuthSQL, idOrName, tier).Scan(&n); err != nil {
		return fmt.Errorf("set tier of tenant %s: %w", idOrName, err)
	}
	if n == 0 {
		return fmt.Errorf("tenant %s: %w", idOrName, ErrNotFound)
	}
	return nil
}

// TakeRate spends one request from a tenant's bucket, shared by every API
// instance through PostgreSQL (GCRA: a sustained rate per second with a
// burst, one atomic statement, no read-modify-write race). It returns 0
// when the request is allowed, otherwise how long until one would be.
func (s *Store) TakeRate(ctx context.Context, tenantID, bucket string, perSecond float64, burst int) (time.Duration, error) {
	if perSecond <= 0 || burst < 1 {
		return 0, fmt.Errorf("take rate: rate %v and burst %d must be positive", perSecond, burst)
	}
	interval := 1 / perSecond
	tolerance := interval * float64(burst)
	var wait float64
	err := s.pool.QueryRow(ctx, `WITH up AS (
			INSERT INTO rate_buckets (tenant_id, bucket, tat) VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))
			ON CONFLICT (tenant_id, bucket) DO UPDATE
				SET tat = greatest(rate_buckets.tat, clock_timestamp()) + make_interval(secs => $3)
				WHERE greatest(rate_buckets.tat, clock_timestamp()) + make_interval(secs => $3) - clock_timestamp() <= make_interval(secs => $4)
			RETURNING 0::float8 AS wait)
		SELECT wait FROM up
		UNION ALL
		SELECT greatest(extract(epoch FROM tat - clock_timestamp())::float8 + $3 - $4, 0.001) FROM rate_buckets
			WHERE tenant_id = $1 AND bucket = $2 AND NOT EXISTS (SELECT 1 FROM up)`,
		tenantID, bucket, interval, tolerance).Scan(&wait)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil // the row vanished between the statements' snapshots: allow
	}
	if err != nil {
		return 0, fmt.Errorf("take rate for tenant %s: %w", tenantID, err)
	}
	return time.Duration(wait * float64(time.Second)), nil
}

// PendingDesigns counts a tenant's designs waiting for a verdict.
func (s *Store) PendingDesigns(ctx context.Context, tenantID string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM designs WHERE tenant_id = $1 AND status IN ('queued', 'analyzing')`, tenantID).Scan(&n); err != nil {
		return 0, fmt.Errorf("pending designs of %s: %w", tenantID, err)
	}
	return n, nil
}

// blobLockSQL is the advisory lock key of a blob: uploads hold it shared
// while their design row commits, blob collection exclusively while it
// checks references and deletes — so a blob is never deleted under a row
// that is about to reference it.
const blobLockSQL = `hashtextextended('muster.blob:' || $1, 0)`

// WithUnreferencedBlob runs del while holding the blob's exclusive lock,
// if and only if no design references the blob. It reports whether del ran.
func (s *Store) WithUnreferencedBlob(ctx context.Context, sha string, del func(context.Context) error) (bool, error) {
	ran := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+blobLockSQL+`)`, sha); err != nil {
			return err
		}
		var referenced bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM designs WHERE sha256 = $1)`, sha).Scan(&referenced); err != nil {
			return err
		}
		if referenced {
			return nil
		}
		ran = true
		return del(ctx)
	})
	if err != nil {
		return ran, fmt.Errorf("collect blob %s: %w", sha, err)
	}
	return ran, nil
}

// ReferencedBlobs returns which of shas some design references.
func (s *Store) ReferencedBlobs(ctx context.Context, shas []string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT sha256 FROM designs WHERE sha256 = ANY($1)`, shas)
	if err != nil {
		return nil, fmt.Errorf("referenced blobs: %w", err)
	}
	out := map[string]bool{}
	var sha string
	_, err = pgx.ForEachRow(rows, []any{&sha}, func() error { out[sha] = true; return nil })
	if err != nil {
		return nil, fmt.Errorf("referenced blobs: %w", err)
	}
	return out, nil
}
