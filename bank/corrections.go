package bank

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Reviewers' corrections ("not this mark") live in review_corrections,
// written by the review package (migrations/0014_review_corrections.sql);
// the bank package only reads them: the analyzer does not raise a corrected
// entry again for the same design bytes, and the bank owner sees how often
// each entry misfired.

// Corrected returns the entries (keys "bank/id") reviewers marked wrong for
// design bytes with this sha256 in the bank analyzer's findings (source
// image): corrections by the platform operator's staff apply to every
// tenant, a tenant's own reviewers' only to that tenant (tenantID). An error
// must not drop findings: the caller keeps every match when it cannot read
// the corrections (fail closed).
func (s *Store) Corrected(ctx context.Context, sha256, tenantID string) (map[string]bool, error) {
	return s.CorrectedFor(ctx, mustertype.CorrectionImage, sha256, tenantID)
}

// CorrectedFor is Corrected for one correction source
// (mustertype.CorrectionImage, CorrectionOCR, CorrectionListing) and key:
// the design bytes' sha256, or for the listing mustertype.ListingTextKey of
// a field's text. A correction of one source never suppresses another's
// findings.
func (s *Store) CorrectedFor(ctx context.Context, source, sha256, tenantID string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT bank, entry_id FROM review_corrections
		WHERE sha256 = $1 AND source = $2 AND (scope_tenant IS NULL OR scope_tenant::text = $3)`, sha256, source, tenantID)
	if err != nil {
		return nil, fmt.Errorf("bank: %s corrections of %s: %w", source, sha256, err)
	}
	out := map[string]bool{}
	var b, id string
	if _, err := pgx.ForEachRow(rows, []any{&b, &id}, func() error {
		out[key(b, id)] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("bank: %s corrections of %s: %w", source, sha256, err)
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

// Corrector reads reviewers' corrections (Store.CorrectedFor; Set.Corrected
// for the bank analyzer).
type Corrector interface {
	CorrectedFor(ctx context.Context, source, sha256, tenantID string) (map[string]bool, error)
}

// DropCorrected returns fs without the mark and phrase findings whose
// entry ("bank/id") is in corrected, and the keys it dropped.
func DropCorrected(fs []mustertype.Finding, corrected map[string]bool) (kept []mustertype.Finding, dropped []string) {
	for _, f := range fs {
		switch f.Type {
		case mustertype.FindingTrademark, mustertype.FindingSymbol, mustertype.FindingCustom, mustertype.FindingPhrase:
			if k := key(f.Bank, f.EntryID); f.EntryID != "" && corrected[k] {
				if !slices.Contains(dropped, k) {
					dropped = append(dropped, k)
				}
				continue
			}
		}
		kept = append(kept, f)
	}
	return kept, dropped
}
