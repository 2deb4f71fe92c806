package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/muster-dev/muster/mustertype"
)

// Designs is where backtests and re-decisions read the stored inputs of
// decided designs and record new verdicts: the store, the one owner of the
// designs, findings, verdicts and events tables.
type Designs interface {
	// StoredDesigns pages decided designs created at or after since, after
	// the keyset cursor (afterAt, afterID), with their stored analyses and
	// findings.
	StoredDesigns(ctx context.Context, since, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error)
	// CountStoredDesigns counts decided designs created at or after since.
	CountStoredDesigns(ctx context.Context, since time.Time) (int, error)
	// StoredDesignsWithEntry pages a tenant's decided designs that have a
	// finding of the bank entry, after the keyset cursor, as StoredDesigns.
	StoredDesignsWithEntry(ctx context.Context, tenantID, bank, entryID string, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error)
	// CountStoredDesignsWithEntry counts them.
	CountStoredDesignsWithEntry(ctx context.Context, tenantID, bank, entryID string) (int, error)
	// LatestVerdict returns a design's newest verdict.
	LatestVerdict(ctx context.Context, designID string) (mustertype.Verdict, error)
	// RecordVerdict records a verdict and its event in one transaction.
	RecordVerdict(ctx context.Context, nv mustertype.NewVerdict) (mustertype.Verdict, error)
}

func (s *Store) countStored(ctx context.Context, since time.Time) (int, error) {
	if s.designs == nil {
		return 0, fmt.Errorf("policy: no design store configured")
	}
	return s.designs.CountStoredDesigns(ctx, since)
}
