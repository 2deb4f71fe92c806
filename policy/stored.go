package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// storedDesign is a decided design rebuilt from its stored rows.
type storedDesign struct {
	Input     Input
	CreatedAt time.Time
}

// designPage reads up to limit decided designs created at or after since,
// after the keyset cursor (created_at, id), with their analyses and findings.
// No model is re-run: the input is exactly what the worker stored.
func (s *Store) designPage(ctx context.Context, since time.Time, afterAt time.Time, afterID string, limit int) ([]storedDesign, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT d.id::text, d.tenant_id::text, d.product, d.markets, d.title, d.tags, d.created_at,
		  coalesce((SELECT jsonb_object_agg(a.analyzer, a.result) FROM analyses a WHERE a.design_id = d.id), '{}'),
		  coalesce((SELECT jsonb_agg(jsonb_build_object('type', f.type, 'analyzer', f.analyzer, 'bank', f.bank,
		      'entry_id', f.entry_id, 'label', f.label, 'score', f.score, 'distance', f.distance, 'box', f.box,
		      'attrs', f.attrs) ORDER BY f.id) FROM findings f WHERE f.design_id = d.id), '[]')
		FROM designs d
		WHERE d.status = 'decided' AND d.created_at >= $1 AND (d.created_at, d.id) > ($2, $3::uuid)
		ORDER BY d.created_at, d.id
		LIMIT $4`, since, afterAt, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("policy: read stored designs: %w", err)
	}
	defer rows.Close()
	var out []storedDesign
	for rows.Next() {
		var sd storedDesign
		var analyses map[string]json.RawMessage
		var findings []byte
		in := &sd.Input
		if err := rows.Scan(&in.DesignID, &in.TenantID, &in.Product, &in.Markets, &in.Title, &in.Tags, &sd.CreatedAt, &analyses, &findings); err != nil {
			return nil, fmt.Errorf("policy: read stored designs: %w", err)
		}
		in.Analyses = analyses
		if err := json.Unmarshal(findings, &in.Findings); err != nil {
			return nil, fmt.Errorf("policy: design %s findings: %w", in.DesignID, err)
		}
		out = append(out, sd)
	}
	return out, rows.Err()
}

// forEachStored calls fn for every decided design created at or after
// since, in creation order, in pages.
func (s *Store) forEachStored(ctx context.Context, since time.Time, pageSize int, fn func([]storedDesign) error) error {
	afterAt, afterID := time.Time{}, "00000000-0000-0000-0000-000000000000"
	for {
		page, err := s.designPage(ctx, since, afterAt, afterID, pageSize)
		if err != nil {
			return err
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
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM designs WHERE status = 'decided' AND created_at >= $1`, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("policy: count stored designs: %w", err)
	}
	return n, nil
}
