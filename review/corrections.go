package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	Scope string `json:"scope"`
	// Source is which analyzer's finding it corrects
	// (mustertype.CorrectionImage: the bank analyzer's; CorrectionOCR: a
	// mark in the text read from the image; CorrectionListing: a mark in
	// the listing text) and so what SHA256 is: the design bytes' for image
	// and ocr, mustertype.ListingTextKey of the field's text for listing.
	Source string `json:"source"`
	// Field is the listing field it was made on (listing corrections).
	Field       string    `json:"field,omitempty"`
	FindingType string    `json:"finding_type"`
	Label       string    `json:"label"`
	Note        string    `json:"note,omitempty"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	// Existing is true when the same correction had been made before
	// (nothing new was recorded).
	Existing bool `json:"existing,omitempty"`
}

// correctable reports whether a finding may be marked wrong: the bank
// analyzer's trademark, symbol and custom-entry findings, and the text
// screener's word-mark, custom-entry and phrase findings in the text read
// from the image (ocr) and in the listing (listing, with its field).
func correctable(f mustertype.Finding) bool {
	if f.Bank == "" || f.EntryID == "" {
		return false
	}
	switch f.Analyzer {
	case mustertype.AnalyzerBank:
		return f.Type == mustertype.FindingTrademark || f.Type == mustertype.FindingSymbol || f.Type == mustertype.FindingCustom
	case mustertype.AnalyzerOCR:
		return f.Type == mustertype.FindingTrademark || f.Type == mustertype.FindingCustom || f.Type == mustertype.FindingPhrase
	case mustertype.AnalyzerListing:
		return (f.Type == mustertype.FindingTrademark || f.Type == mustertype.FindingCustom || f.Type == mustertype.FindingPhrase) &&
			slices.Contains(mustertype.ListingFields, f.Attrs.Field)
	}
	return false
}

// Correctable reports whether the console offers "not this mark" for a
// finding.
func Correctable(f mustertype.Finding) bool { return correctable(f) }

// Target names the finding a correction is about: its bank entry, the
// analyzer that found it (bank, ocr or listing; "" is bank) and, for the
// listing, the field (title, tags or description).
type Target struct {
	Bank     string `json:"bank"`
	EntryID  string `json:"entry_id"`
	Analyzer string `json:"analyzer,omitempty"`
	Field    string `json:"field,omitempty"`
}

// Of reports whether the correction is about finding f.
func (c Correction) Of(f mustertype.Finding) bool {
	if c.Bank != f.Bank || c.EntryID != f.EntryID || c.Source != mustertype.CorrectionSource(f.Analyzer) {
		return false
	}
	return c.Source != mustertype.CorrectionListing || c.Field == f.Attrs.Field
}

const correctionCols = `id, sha256, bank, entry_id, tenant_id::text, design_id::text, coalesce(item_id, 0), CASE WHEN scope_tenant IS NULL THEN 'all' ELSE 'tenant' END,
	source, field, finding_type, label, note, created_by, created_at`

func scanCorrection(r pgx.Row) (Correction, error) {
	var c Correction
	err := r.Scan(&c.ID, &c.SHA256, &c.Bank, &c.EntryID, &c.TenantID, &c.DesignID, &c.ItemID, &c.Scope, &c.Source, &c.Field, &c.FindingType, &c.Label, &c.Note, &c.CreatedBy, &c.CreatedAt)
	return c, err
}

// MarkFindingWrong marks the bank analyzer's finding of entry (bankName,
// entryID) wrong: MarkWrong with that target.
func (s *Service) MarkFindingWrong(ctx context.Context, r Reviewer, itemID int64, bankName, entryID, note string) (Correction, error) {
	return s.MarkWrong(ctx, r, itemID, Target{Bank: bankName, EntryID: entryID}, note)
}

// MarkWrong records that the item's design's finding t is wrong ("not this
// mark"), with the reviewer and the time, audited in the same transaction.
// For the bank analyzer's and the OCR's findings the same design bytes
// never raise that entry again (in that analyzer); for the listing's the
// same text of a listing field never does. Anyone who may review the
// item's queue may do it (no lease needed). Marking the same finding wrong
// again returns the first correction (Existing).
func (s *Service) MarkWrong(ctx context.Context, r Reviewer, itemID int64, t Target, note string) (Correction, error) {
	if strings.TrimSpace(t.Bank) == "" || strings.TrimSpace(t.EntryID) == "" {
		return Correction{}, inputErr("invalid_finding", "bank and entry_id are required")
	}
	if t.Analyzer == "" {
		t.Analyzer = mustertype.AnalyzerBank
	}
	source := mustertype.CorrectionSource(t.Analyzer)
	if source == "" {
		return Correction{}, inputErr("invalid_finding", "analyzer %q: only the bank, ocr and listing analyzers' findings can be marked wrong", t.Analyzer)
	}
	if source != mustertype.CorrectionListing {
		t.Field = ""
	} else if !slices.Contains(mustertype.ListingFields, t.Field) {
		return Correction{}, inputErr("invalid_finding", "a listing finding names its field: title, tags or description")
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
		findings, err := s.st.Findings(ctx, it.DesignID)
		if err != nil {
			return err
		}
		var f *mustertype.Finding
		for i := range findings {
			g := findings[i]
			if g.Bank == t.Bank && g.EntryID == t.EntryID && g.Analyzer == t.Analyzer && correctable(g) && (source != mustertype.CorrectionListing || g.Attrs.Field == t.Field) {
				f = &findings[i]
				break
			}
		}
		if f == nil {
			where := t.Analyzer
			if t.Field != "" {
				where += " " + t.Field
			}
			return inputErr("no_such_finding", "the design has no %s finding of %s/%s that can be marked wrong", where, t.Bank, t.EntryID)
		}
		// The key: the design bytes, or the listing field's text.
		key := d.SHA256
		if source == mustertype.CorrectionListing {
			key = mustertype.ListingTextKey(mustertype.ListingField(t.Field, d.Title, d.Tags, d.Description))
		}
		var scope *string
		if !r.Platform {
			scope = &it.TenantID
		}
		c, err = scanCorrection(tx.QueryRow(ctx, `INSERT INTO review_corrections (sha256, bank, entry_id, scope_tenant, tenant_id, design_id, item_id, finding_type, label, note, created_by, source, field)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (sha256, source, bank, entry_id, coalesce(scope_tenant, '00000000-0000-0000-0000-000000000000')) DO NOTHING
			RETURNING `+correctionCols, key, t.Bank, t.EntryID, scope, it.TenantID, it.DesignID, it.ID, f.Type, f.Label, note, r.ID, source, t.Field))
		if errors.Is(err, pgx.ErrNoRows) {
			c, err = scanCorrection(tx.QueryRow(ctx, `SELECT `+correctionCols+` FROM review_corrections
				WHERE sha256 = $1 AND source = $2 AND bank = $3 AND entry_id = $4 AND scope_tenant IS NOT DISTINCT FROM $5::uuid`, key, source, t.Bank, t.EntryID, scope))
			c.Existing = true
			return err
		}
		if err != nil {
			return err
		}
		if err := s.st.AppendEventTx(ctx, tx, it.TenantID, it.DesignID, "review.finding_marked_wrong", r.ID,
			map[string]any{"item_id": it.ID, "correction_id": c.ID, "bank": t.Bank, "entry_id": t.EntryID, "source": source, "field": t.Field}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionFindingWrong, TenantID: it.TenantID, DesignID: it.DesignID, ItemID: it.ID,
			Data: map[string]any{"correction_id": c.ID, "sha256": key, "bank": t.Bank, "entry_id": t.EntryID, "source": source, "field": t.Field,
				"label": f.Label, "scope": c.Scope, "note": note}})
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

// Corrections lists the corrections that apply to the item's design as its
// tenant sees them (the platform's and the tenant's own), oldest first:
// those of its bytes (bank and OCR findings) and of its listing fields'
// texts.
func (s *Service) Corrections(ctx context.Context, r Reviewer, itemID int64) ([]Correction, error) {
	it, err := s.Item(ctx, r, itemID)
	if err != nil {
		return nil, err
	}
	d, err := s.st.Design(ctx, it.TenantID, it.DesignID)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, f := range mustertype.ListingFields {
		if text := mustertype.ListingField(f, d.Title, d.Tags, d.Description); text != "" {
			keys = append(keys, mustertype.ListingTextKey(text))
		}
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT `+correctionCols+` FROM review_corrections
		WHERE ((sha256 = $1 AND source <> 'listing') OR (sha256 = ANY($3) AND source = 'listing'))
		  AND (scope_tenant IS NULL OR scope_tenant = $2::uuid) ORDER BY id`, d.SHA256, it.TenantID, keys)
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
