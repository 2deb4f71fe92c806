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
	// LatestVerdict returns a design's newest verdict.
	LatestVerdict(ctx context.Context, designID string) (mustertype.Verdict, error)
	// RecordVerdict records a verdict and its event in one transaction.
	RecordVerdict(ctx context.Context, nv mustertype.NewVerdict) (mustertype.Verdict, error)
}

// forEachStored calls fn for every decided design created at or after
// since, in creation order, in pages.
func (s *Store) forEachStored(ctx context.Context, since time.Time, pageSize int, fn func([]mustertype.StoredDesign) error) error {
	if s.designs == nil {
		return fmt.Errorf("policy: no design store configured")
	}
	var afterAt time.Time
	var afterID string
	for {
		page, err := s.designs.StoredDesigns(ctx, since, afterAt, afterID, pageSize)
		if err != nil {
			return fmt.Errorf("policy: read stored designs: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		last := page[len(page)-1]
		afterAt, afterID = last.CreatedAt, last.Input.DesignID
	}
}

func (s *Store) countStored(ctx context.Context, since time.Time) (int, error) {
	if s.designs == nil {
		return 0, fmt.Errorf("policy: no design store configured")
	}
	return s.designs.CountStoredDesigns(ctx, since)
}
