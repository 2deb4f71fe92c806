package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// StoredDesignsWithEntry pages a tenant's decided designs that have a
// finding of the bank entry (the designs a licence for it affects), after
// the keyset cursor (afterAt, afterID), with their stored analyses and
// findings as StoredDesigns returns them.
func (s *Store) StoredDesignsWithEntry(ctx context.Context, tenantID, bankName, entryID string, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error) {
	if afterID == "" {
		afterID = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := s.pool.Query(ctx, `
		SELECT d.id::text, d.tenant_id::text, d.product, d.markets, d.title, d.tags, d.description, d.created_at
		FROM designs d
		WHERE d.tenant_id::text = $1 AND d.status = 'decided'
		  AND EXISTS (SELECT 1 FROM findings f WHERE f.design_id = d.id AND f.bank = $2 AND f.entry_id = $3)
		  AND (d.created_at, d.id) > ($4, $5::uuid)
		ORDER BY d.created_at, d.id
		LIMIT $6`, tenantID, bankName, entryID, afterAt, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("designs with %s/%s: %w", bankName, entryID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mustertype.StoredDesign, error) {
		var sd mustertype.StoredDesign
		in := &sd.Input
		err := r.Scan(&in.DesignID, &in.TenantID, &in.Product, &in.Markets, &in.Title, &in.Tags, &in.Description, &sd.CreatedAt)
		return sd, err
	})
	if err != nil {
		return nil, fmt.Errorf("designs with %s/%s: %w", bankName, entryID, err)
	}
	return s.fillStored(ctx, out)
}

// CountStoredDesignsWithEntry counts what StoredDesignsWithEntry pages.
func (s *Store) CountStoredDesignsWithEntry(ctx context.Context, tenantID, bankName, entryID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM designs d WHERE d.tenant_id::text = $1 AND d.status = 'decided'
		AND EXISTS (SELECT 1 FROM findings f WHERE f.design_id = d.id AND f.bank = $2 AND f.entry_id = $3)`, tenantID, bankName, entryID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count designs with %s/%s: %w", bankName, entryID, err)
	}
	return n, nil
}
