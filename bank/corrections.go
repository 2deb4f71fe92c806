package bank

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Reviewers' corrections ("not this mark") live in review_corrections,
// written by the review package (migrations/0014_review_corrections.sql);
// the bank package only reads them: the analyzer does not raise a corrected
// entry again for the same design bytes, and the bank owner sees how often
// each entry misfired.

// Corrected returns the entries (keys "bank/id") reviewers marked wrong for
// design bytes with this sha256: corrections by the platform operator's
// staff apply to every tenant, a tenant's own reviewers' only to that
// tenant (tenantID). An error must not drop findings: the caller keeps
// every match when it cannot read the corrections (fail closed).
func (s *Store) Corrected(ctx context.Context, sha256, tenantID string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT bank, entry_id FROM review_corrections
		WHERE sha256 = $1 AND (scope_tenant IS NULL OR scope_tenant::text = $2)`, sha256, tenantID)
	if err != nil {
		return nil, fmt.Errorf("bank: corrections of %s: %w", sha256, err)
	}
	out := map[string]bool{}
	var b, id string
	if _, err := pgx.ForEachRow(rows, []any{&b, &id}, func() error {
		out[key(b, id)] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("bank: corrections of %s: %w", sha256, err)
	}
	return out, nil
}

// Misfires counts, per entry id of a bank, the reviewers' corrections
// saying a finding of that entry was wrong (every tenant's). ids limits
// the count to those entries; nil counts every entry of the bank.
func (s *Store) Misfires(ctx context.Context, bank string, ids []string) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT entry_id, count(*) FROM review_corrections
		WHERE bank = $1 AND ($2::text[] IS NULL OR entry_id = ANY ($2)) GROUP BY entry_id`, bank, ids)
	if err != nil {
		return nil, fmt.Errorf("bank: misfires of %s: %w", bank, err)
	}
	out := map[string]int{}
	var id string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error {
		out[id] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("bank: misfires of %s: %w", bank, err)
	}
	return out, nil
}

// Corrected returns the entries reviewers marked wrong for these design
// bytes (Store.Corrected), read fresh from the database on every call so a
// correction counts from the next analysis on.
func (s *Set) Corrected(ctx context.Context, sha256, tenantID string) (map[string]bool, error) {
	return s.store.Corrected(ctx, sha256, tenantID)
}
