package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/muster-dev/muster/mustertype"
)

// Appeal is a merchant's complaint against a block (DSA Art. 20).
type Appeal struct {
	ID       int64  `json:"id"`
	TenantID string `json:"tenant_id"`
	DesignID string `json:"design_id"`
	// VerdictID is the verdict appealed.
	VerdictID int64  `json:"verdict_id"`
	Message   string `json:"message"`
	FiledBy   string `json:"filed_by"`
	// State is open, upheld, overturned or withdrawn.
	State     string     `json:"state"`
	DecidedBy string     `json:"-"` // reviewers' identities stay internal
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	// ResultVerdictID is the verdict the decision recorded.
	ResultVerdictID *int64    `json:"result_verdict_id,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	// ItemID is the review item deciding it.
	ItemID int64 `json:"item_id,omitempty"`
}

const appealCols = `a.id, a.tenant_id::text, a.design_id::text, a.verdict_id, a.message, a.filed_by, a.state, coalesce(a.decided_by, ''), a.decided_at,
	coalesce(a.reason, ''), a.result_verdict_id, a.created_at, coalesce((SELECT max(id) FROM review_items WHERE appeal_id = a.id), 0)`

func scanAppeal(r pgx.Row) (Appeal, error) {
	var a Appeal
	err := r.Scan(&a.ID, &a.TenantID, &a.DesignID, &a.VerdictID, &a.Message, &a.FiledBy, &a.State, &a.DecidedBy, &a.DecidedAt, &a.Reason, &a.ResultVerdictID, &a.CreatedAt, &a.ItemID)
	return a, err
}

func lockAppeal(ctx context.Context, tx pgx.Tx, id int64) (Appeal, error) {
	a, err := scanAppeal(tx.QueryRow(ctx, `SELECT `+appealCols+` FROM review_appeals a WHERE a.id = $1 FOR UPDATE`, id))
	if err != nil {
		return Appeal{}, fmt.Errorf("appeal %d: %w", id, notFound(err))
	}
	return a, nil
}

func (s *Service) appeal(ctx context.Context, id int64) (Appeal, error) {
	a, err := scanAppeal(s.st.Pool().QueryRow(ctx, `SELECT `+appealCols+` FROM review_appeals a WHERE a.id = $1`, id))
	if err != nil {
		return Appeal{}, fmt.Errorf("appeal %d: %w", id, notFound(err))
	}
	return a, nil
}

// ErrAppealWindow: the decision is older than the appeal window.
var ErrAppealWindow = errors.New("review: the appeal window of this decision has closed")

// FileAppeal files a merchant's appeal against the block in the design's
// latest verdict: within the appeal window (6 months) of that verdict, once
// per verdict. It opens an item in the appeals queue that the reviewer who
// made the appealed decision may not take (four eyes). tenantID scopes the
// design to the merchant's tenant; filedBy names the merchant's key.
func (s *Service) FileAppeal(ctx context.Context, tenantID, designID, filedBy, message string) (Appeal, error) {
	message = strings.TrimSpace(message)
	if message == "" || len(message) > 5000 {
		return Appeal{}, inputErr("invalid_message", "an appeal needs a message of 1..5000 bytes saying why the decision is wrong")
	}
	var a Appeal
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		var owner string
		if err := tx.QueryRow(ctx, `SELECT tenant_id::text FROM designs WHERE id::text = $1 AND tenant_id = $2::uuid`, designID, tenantOrZero(tenantID)).Scan(&owner); err != nil {
			return fmt.Errorf("design %s: %w", designID, notFound(err))
		}
		v, err := s.st.LatestVerdictTx(ctx, tx, designID)
		if errors.Is(err, ErrNotFound) {
			return inputErr("not_appealable", "design %s has no decision yet", designID)
		}
		if err != nil {
			return err
		}
		if v.Outcome != mustertype.Block {
			return inputErr("not_appealable", "only a block can be appealed; the design's outcome is %s in every market", v.Outcome)
		}
		if time.Now().After(s.cfg.AppealWindow(v.CreatedAt)) {
			return fmt.Errorf("decided %s: %w", v.CreatedAt.Format(time.DateOnly), ErrAppealWindow)
		}
		a, err = scanAppeal(tx.QueryRow(ctx, `WITH a AS (INSERT INTO review_appeals (tenant_id, design_id, verdict_id, message, filed_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING *) SELECT `+appealCols+` FROM a`, owner, designID, v.ID, message, filedBy))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("verdict %d of design %s was already appealed: %w", v.ID, designID, ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := s.st.AppendEventTx(ctx, tx, owner, designID, ActionAppealed, filedBy, map[string]any{"appeal_id": a.ID, "verdict_id": v.ID}); err != nil {
			return err
		}
		// Four eyes: whoever made the appealed decision (and any reviewer
		// who decided items behind it) may not decide the appeal.
		var excluded []string
		if v.Actor != "" && v.Cause == mustertype.CauseReview {
			excluded = append(excluded, v.Actor)
		}
		id, err := openItemID(ctx, s.st, tx, newItem{kind: KindAppeal, queue: QueueAppeals, v: v, why: whyBlocks(v.Decision), findings: []mustertype.Finding{},
			appealID: a.ID, excluded: excluded, actor: filedBy})
		if err != nil {
			return err
		}
		if id == 0 {
			return fmt.Errorf("design %s already has an open appeal: %w", designID, ErrConflict)
		}
		a.ItemID = id
		return appendAudit(ctx, tx, auditRecord{Actor: filedBy, Action: ActionAppealed, TenantID: owner, DesignID: designID, ItemID: id,
			Data: map[string]any{"appeal_id": a.ID, "verdict_id": v.ID, "message": message, "excluded": excluded}})
	})
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return Appeal{}, ie
		}
		return Appeal{}, fmt.Errorf("review: appeal design %s: %w", designID, err)
	}
	return a, nil
}

func whyBlocks(d mustertype.Decision) why {
	var w why
	for _, m := range d.Markets {
		for _, r := range m.Reasons {
			if r.Outcome == mustertype.Block {
				w.add(r, nil)
			}
		}
	}
	return w
}

// Appeals lists a design's appeals for its tenant (the merchant's view).
func (s *Service) Appeals(ctx context.Context, tenantID, designID string) ([]Appeal, error) {
	if _, err := s.st.Design(ctx, tenantID, designID); err != nil {
		return nil, err
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT `+appealCols+` FROM review_appeals a WHERE a.design_id::text = $1 AND a.tenant_id = $2::uuid ORDER BY a.id`, designID, tenantID)
	if err != nil {
		return nil, fmt.Errorf("review: appeals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Appeal, error) { return scanAppeal(r) })
	if err != nil {
		return nil, fmt.Errorf("review: appeals: %w", err)
	}
	return out, nil
}
