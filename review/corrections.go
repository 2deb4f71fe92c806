package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

// ActionFindingWrong is the audit action of a "not this mark" correction.
const ActionFindingWrong = "finding.marked_wrong"

// Correction is a reviewer's "not this mark": a trademark or symbol finding
// of a bank entry marked wrong for a design's bytes. The bank analyzer
// never raises that entry again for the same bytes (bank.Store.Corrected),
// and the bank owner sees the count per entry (bank.Store.Misfires).
type Correction struct {
	ID       int64  `json:"id"`
	SHA256   string `json:"sha256"`
	Bank     string `json:"bank"`
	EntryID  string `json:"entry_id"`
	TenantID string `json:"tenant_id"`
	DesignID string `json:"design_id"`
	ItemID   int64  `json:"item_id,omitempty"`
	// Scope is "all" for a correction by the platform operator's staff
	// (every tenant's designs with these bytes) or "tenant" (only the
	// design's tenant's: a marketplace's own reviewers).
	Scope       string    `json:"scope"`
	FindingType string    `json:"finding_type"`
	Label       string    `json:"label"`
	Note        string    `json:"note,omitempty"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	// Existing is true when the same correction had been made before
	// (nothing new was recorded).
	Existing bool `json:"existing,omitempty"`
}

// correctable reports whether a finding type may be marked wrong: the bank
// analyzer's trademark, symbol and custom-entry findings.
func correctable(f mustertype.Finding) bool {
	switch f.Type {
	case mustertype.FindingTrademark, mustertype.FindingSymbol, mustertype.FindingCustom:
		return f.Analyzer == mustertype.AnalyzerBank && f.Bank != "" && f.EntryID != ""
	}
	return false
}

// Correctable reports whether the console offers "not this mark" for a
// finding.
func Correctable(f mustertype.Finding) bool { return correctable(f) }

const correctionCols = `id, sha256, bank, entry_id, tenant_id::text, design_id::text, coalesce(item_id, 0), CASE WHEN scope_tenant IS NULL THEN 'all' ELSE 'tenant' END,
	finding_type, label, note, created_by, created_at`

func scanCorrection(r pgx.Row) (Correction, error) {
	var c Correction
	err := r.Scan(&c.ID, &c.SHA256, &c.Bank, &c.EntryID, &c.TenantID, &c.DesignID, &c.ItemID, &c.Scope, &c.FindingType, &c.Label, &c.Note, &c.CreatedBy, &c.CreatedAt)
	return c, err
}

// MarkFindingWrong records that the item's design's finding of bank entry
// (bankName, entryID) is wrong ("not this mark"), with the reviewer and the
// time, audited in the same transaction. Anyone who may review the item's
// queue may do it (no lease needed). Marking the same entry wrong for the
// same bytes again returns the first correction (Existing).
func (s *Service) MarkFindingWrong(ctx context.Context, r Reviewer, itemID int64, bankName, entryID, note string) (Correction, error) {
	if strings.TrimSpace(bankName) == "" || strings.TrimSpace(entryID) == "" {
		return Correction{}, inputErr("invalid_finding", "bank and entry_id are required")
	}
	if len(note) > 2000 {
		return Correction{}, inputErr("invalid_note", "a note is at most 2000 bytes")
	}
	var c Correction
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		it, roles, err := lockItem(ctx, tx, r, itemID)
		if err != nil {
			return err
		}
		if err := mayRoles(r, it.Queue, roles); err != nil {
			return err
		}
		d, err := s.st.Design(ctx, it.TenantID, it.DesignID)
		if err != nil {
			return err
		}
		sha := d.SHA256
		findings, err := s.st.Findings(ctx, it.DesignID)
		if err != nil {
			return err
		}
		var f *mustertype.Finding
		for i := range findings {
			if findings[i].Bank == bankName && findings[i].EntryID == entryID && correctable(findings[i]) {
				f = &findings[i]
				break
			}
		}
		if f == nil {
			return inputErr("no_such_finding", "the design has no trademark or symbol finding of %s/%s", bankName, entryID)
		}
		var scope *string
		if !r.Platform {
			scope = &it.TenantID
		}
		c, err = scanCorrection(tx.QueryRow(ctx, `INSERT INTO review_corrections (sha256, bank, entry_id, scope_tenant, tenant_id, design_id, item_id, finding_type, label, note, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (sha256, bank, entry_id, coalesce(scope_tenant, '00000000-0000-0000-0000-000000000000')) DO NOTHING
			RETURNING `+correctionCols, sha, bankName, entryID, scope, it.TenantID, it.DesignID, it.ID, f.Type, f.Label, note, r.ID))
		if errors.Is(err, pgx.ErrNoRows) {
			c, err = scanCorrection(tx.QueryRow(ctx, `SELECT `+correctionCols+` FROM review_corrections
				WHERE sha256 = $1 AND bank = $2 AND entry_id = $3 AND scope_tenant IS NOT DISTINCT FROM $4::uuid`, sha, bankName, entryID, scope))
			c.Existing = true
			return err
		}
		if err != nil {
			return err
		}
		if err := s.st.AppendEventTx(ctx, tx, it.TenantID, it.DesignID, "review.finding_marked_wrong", r.ID,
			map[string]any{"item_id": it.ID, "correction_id": c.ID, "bank": bankName, "entry_id": entryID}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionFindingWrong, TenantID: it.TenantID, DesignID: it.DesignID, ItemID: it.ID,
			Data: map[string]any{"correction_id": c.ID, "sha256": sha, "bank": bankName, "entry_id": entryID, "label": f.Label, "scope": c.Scope, "note": note}})
	})
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return Correction{}, ie
		}
		return Correction{}, fmt.Errorf("review: mark finding wrong: %w", err)
	}
	return c, nil
}

// Corrections lists the corrections that apply to a design's bytes as its
// tenant sees them (the platform's and the tenant's own), oldest first.
func (s *Service) Corrections(ctx context.Context, r Reviewer, itemID int64) ([]Correction, error) {
	it, err := s.Item(ctx, r, itemID)
	if err != nil {
		return nil, err
	}
	d, err := s.st.Design(ctx, it.TenantID, it.DesignID)
	if err != nil {
		return nil, err
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT `+correctionCols+` FROM review_corrections
		WHERE sha256 = $1 AND (scope_tenant IS NULL OR scope_tenant = $2::uuid) ORDER BY id`, d.SHA256, it.TenantID)
	if err != nil {
		return nil, fmt.Errorf("review: corrections: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Correction, error) { return scanCorrection(r) })
}

// ActionCorrectionWithdrawn is the audit action of a withdrawn correction.
const ActionCorrectionWithdrawn = "correction.withdrawn"

// WithdrawCorrection removes a "not this mark" correction: the entry is
// raised again for those bytes from the next analysis on. The reviewer who
// made it may withdraw it, and so may legal and admin users — the
// platform's for any correction, a tenant's for their tenant's own. The
// withdrawal (with the correction it removed and the why) is audited.
func (s *Service) WithdrawCorrection(ctx context.Context, r Reviewer, id int64, note string) (Correction, error) {
	if !reviewRole(r.Role) {
		return Correction{}, fmt.Errorf("%w: role %s does not review", ErrForbidden, r.Role)
	}
	if len(note) > 2000 {
		return Correction{}, inputErr("invalid_note", "a note is at most 2000 bytes")
	}
	var c Correction
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanCorrection(tx.QueryRow(ctx, `SELECT `+correctionCols+` FROM review_corrections
			WHERE id = $1 AND ($2 OR scope_tenant = $3::uuid) FOR UPDATE`, id, r.Platform, tenantOrZero(r.TenantID)))
		if err != nil {
			return fmt.Errorf("correction %d: %w", id, notFound(err))
		}
		if c.CreatedBy != r.ID && r.Role == store.RoleReviewer {
			return fmt.Errorf("%w: only the reviewer who made correction %d, legal or an admin may withdraw it", ErrForbidden, id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM review_corrections WHERE id = $1`, id); err != nil {
			return err
		}
		if err := s.st.AppendEventTx(ctx, tx, c.TenantID, c.DesignID, "review.correction_withdrawn", r.ID,
			map[string]any{"correction_id": c.ID, "bank": c.Bank, "entry_id": c.EntryID}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionCorrectionWithdrawn, TenantID: c.TenantID, DesignID: c.DesignID, ItemID: c.ItemID,
			Data: map[string]any{"correction": c, "note": note}})
	})
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return Correction{}, ie
		}
		return Correction{}, fmt.Errorf("review: withdraw correction: %w", err)
	}
	return c, nil
}
