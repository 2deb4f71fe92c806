package bank

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// SearchOptions selects and pages entries of one bank.
type SearchOptions struct {
	// Query matches the id, label, owner or a word mark (case-insensitive
	// substring); empty matches every entry.
	Query string
	// After is the keyset cursor: entries with an id after it.
	After string
	// Limit is the page size (1–500; 0 means 50).
	Limit int
}

// entryMetaCols are the columns of an entry without its images and hashes.
const entryMetaCols = `bank, id, label, owner, jurisdictions, classes, famous, word_marks, source, form, notes,
	disabled, disabled_until, disabled_note, NULL::bytea, NULL::bytea, NULL::bigint[], algorithm, version, created_at, updated_at`

// SearchEntries pages a bank's entries in id order, without their reference
// images and prepared hashes (read one with Entry for those).
func (s *Store) SearchEntries(ctx context.Context, bank string, o SearchOptions) ([]Entry, error) {
	if o.Limit == 0 {
		o.Limit = 50
	}
	if o.Limit < 1 || o.Limit > 500 {
		return nil, fmt.Errorf("%w: limit %d outside 1–500", ErrInvalid, o.Limit)
	}
	if _, err := s.Bank(ctx, bank); err != nil {
		return nil, err
	}
	q := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(o.Query)) + "%"
	rows, err := s.pool.Query(ctx, `SELECT `+entryMetaCols+` FROM bank_entries
		WHERE bank = $1 AND id > $2
		  AND ($3 = '%%' OR lower(id) LIKE $3 OR lower(label) LIKE $3 OR lower(owner) LIKE $3
		       OR EXISTS (SELECT 1 FROM unnest(word_marks) w WHERE lower(w) LIKE $3))
		ORDER BY id LIMIT $4`, bank, o.After, q, o.Limit)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", bank, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r) })
}

// TenantAllowlist returns one tenant's allow-list rows across banks
// (expired ones included), newest first.
func (s *Store) TenantAllowlist(ctx context.Context, tenantID string) ([]Allow, error) {
	rows, err := s.pool.Query(ctx, `SELECT bank, entry_id, tenant_id::text, evidence, expires_at, created_by, created_at
		FROM bank_allowlist WHERE tenant_id::text = $1 ORDER BY created_at DESC, bank, entry_id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("allow-list of %s: %w", tenantID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Allow, error) {
		var a Allow
		err := r.Scan(&a.Bank, &a.EntryID, &a.TenantID, &a.Evidence, &a.ExpiresAt, &a.CreatedBy, &a.CreatedAt)
		return a, err
	})
}

// Allowed reports whether tenantID holds a valid allowance for the entry at
// time now (read from the database, not the live set).
func (s *Store) Allowed(ctx context.Context, bank, entryID, tenantID string, now time.Time) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bank_allowlist WHERE bank = $1 AND entry_id = $2 AND tenant_id::text = $3
		AND (expires_at IS NULL OR expires_at > $4))`, bank, entryID, tenantID, now).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("allowed %s/%s for %s: %w", bank, entryID, tenantID, err)
	}
	return ok, nil
}
