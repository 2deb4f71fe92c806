package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Read queries for legal's workspace in the console (issue 13).

// StoredDesign returns one decided design with its stored analyses and
// findings, as backtests read it (for a rule preview on that design).
func (s *Store) StoredDesign(ctx context.Context, designID string) (mustertype.StoredDesign, error) {
	var sd mustertype.StoredDesign
	in := &sd.Input
	err := s.pool.QueryRow(ctx, `SELECT d.id::text, d.tenant_id::text, d.product, d.markets, d.title, d.tags, d.description, d.created_at
		FROM designs d WHERE d.id::text = $1 AND d.status = 'decided'`, designID).
		Scan(&in.DesignID, &in.TenantID, &in.Product, &in.Markets, &in.Title, &in.Tags, &in.Description, &sd.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return sd, ErrNotFound
	}
	if err != nil {
		return sd, fmt.Errorf("stored design %s: %w", designID, err)
	}
	out, err := s.fillStored(ctx, []mustertype.StoredDesign{sd})
	if err != nil {
		return sd, err
	}
	return out[0], nil
}

// RecentDecided lists the newest decided designs (all tenants), for
// choosing one to preview a rule on.
func (s *Store) RecentDecided(ctx context.Context, limit int) ([]Design, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+designCols+` FROM designs WHERE status = 'decided' ORDER BY created_at DESC, id DESC LIMIT $1`, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("recent designs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Design, error) { return scanDesign(r) })
}

// EntryStats is how a bank entry fared: designs it matched, and of those
// how many a reviewer overturned (an automated verdict that was not allow,
// followed by a reviewer's allow).
type EntryStats struct {
	Matched    int
	Overturned int
	LastMatch  *time.Time
}

// EntryStats counts matches and overturns for the given entries of a bank.
func (s *Store) EntryStats(ctx context.Context, bank string, ids []string) (map[string]EntryStats, error) {
	rows, err := s.pool.Query(ctx, `
		WITH m AS (
			SELECT f.entry_id, f.design_id, max(f.created_at) AS at FROM findings f
			WHERE f.bank = $1 AND f.entry_id = ANY($2) GROUP BY f.entry_id, f.design_id)
		SELECT m.entry_id, count(*), max(m.at),
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM verdicts a WHERE a.design_id = m.design_id AND a.cause = 'analysis' AND a.outcome <> 'allow')
				AND EXISTS (SELECT 1 FROM verdicts r WHERE r.design_id = m.design_id AND r.cause = 'review' AND r.outcome = 'allow'))
		FROM m GROUP BY m.entry_id`, bank, ids)
	if err != nil {
		return nil, fmt.Errorf("entry stats %s: %w", bank, err)
	}
	out := map[string]EntryStats{}
	var id string
	var st EntryStats
	if _, err := pgx.ForEachRow(rows, []any{&id, &st.Matched, &st.LastMatch, &st.Overturned}, func() error {
		out[id] = st
		return nil
	}); err != nil {
		return nil, fmt.Errorf("entry stats %s: %w", bank, err)
	}
	return out, nil
}

// DesignsWithEntry lists the newest designs (all tenants) with a finding
// of the entry.
func (s *Store) DesignsWithEntry(ctx context.Context, bank, entryID string, limit int) ([]Design, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+designCols+` FROM designs WHERE id IN (
		SELECT design_id FROM findings WHERE bank = $1 AND entry_id = $2) ORDER BY created_at DESC, id DESC LIMIT $3`, bank, entryID, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("designs with %s/%s: %w", bank, entryID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Design, error) { return scanDesign(r) })
}

// ShadowDisagreement is a verdict whose shadow decision differs from the
// live one in some market.
type ShadowDisagreement struct {
	DesignID, TenantID string
	Live, Shadow       string // policy versions
	// Markets maps each disagreeing market to "live→shadow" outcomes.
	Markets   map[string]string
	CreatedAt time.Time
}

// ShadowReport compares live and shadow decisions of the verdicts recorded
// since since under shadow version shadowVersion ("policy/N"): how many
// carried it and those that disagree (newest first, up to limit).
func (s *Store) ShadowReport(ctx context.Context, shadowVersion string, since time.Time, limit int) (total int, dis []ShadowDisagreement, err error) {
	rows, err := s.pool.Query(ctx, `SELECT design_id::text, tenant_id::text, decision, created_at FROM verdicts
		WHERE created_at >= $1 AND decision->'shadow'->>'policy_version' = $2 ORDER BY id DESC LIMIT 20000`, since, shadowVersion)
	if err != nil {
		return 0, nil, fmt.Errorf("shadow report: %w", err)
	}
	var d ShadowDisagreement
	var raw []byte
	_, err = pgx.ForEachRow(rows, []any{&d.DesignID, &d.TenantID, &raw, &d.CreatedAt}, func() error {
		var dec mustertype.Decision
		if err := json.Unmarshal(raw, &dec); err != nil || dec.Shadow == nil {
			return err
		}
		total++
		row := d
		row.Live, row.Shadow, row.Markets = dec.PolicyVersion, dec.Shadow.PolicyVersion, map[string]string{}
		for _, mv := range dec.Markets {
			if sv, ok := dec.Shadow.Market(mv.Market); ok && sv.Outcome != mv.Outcome {
				row.Markets[mv.Market] = mv.Outcome + "→" + sv.Outcome
			}
		}
		if len(row.Markets) > 0 && len(dis) < limit {
			dis = append(dis, row)
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("shadow report: %w", err)
	}
	return total, dis, nil
}
