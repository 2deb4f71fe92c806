package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// StoredDesignsWithEntry returns a tenant's decided designs that have a
// finding of the bank entry, with their stored analyses and findings, as
// StoredDesigns returns them: the designs a licence for that entry
// affects.
func (s *Store) StoredDesignsWithEntry(ctx context.Context, tenantID, bankName, entryID string) ([]mustertype.StoredDesign, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT d.id::text, d.tenant_id::text, d.product, d.markets, d.title, d.tags, d.description, d.created_at
		FROM designs d
		WHERE d.tenant_id::text = $1 AND d.status = 'decided'
		  AND EXISTS (SELECT 1 FROM findings f WHERE f.design_id = d.id AND f.bank = $2 AND f.entry_id = $3)
		ORDER BY d.created_at, d.id
		LIMIT 10000`, tenantID, bankName, entryID)
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
