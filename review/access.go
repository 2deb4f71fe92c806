package review

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ActionDesignViewed is the audit action of a person looking at a design
// (access transparency): the console's item page, the design image, the
// audit log filtered to the design, legal's design page, a reviewer key
// reading the item. Views are rows of the same hash chain as every review
// action, so `muster audit verify` detects an edited or deleted view.
const ActionDesignViewed = "design.viewed"

// Views of a design, as logged.
const (
	ViewItem        = "item"         // the console's item page
	ViewImage       = "image"        // the design's image
	ViewAudit       = "audit"        // the audit log drilled down to the design
	ViewLegalDesign = "legal_design" // legal's stored-design page
	ViewAPIItem     = "api_item"     // GET /v1/review/items/{id}
)

// Access is one logged view of a design.
type Access struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	View   string    `json:"view"`
	ItemID int64     `json:"item_id,omitempty"`
	// AuditID is the row of the review audit chain (0 while the row waits
	// to be chained, normally under a second).
	AuditID int64 `json:"audit_id"`
}

// LogView records that actor looked at a design of tenantID (one row of
// the review audit chain, no shared lock: nothing waits for it). itemID is
// the review item it was seen through, or 0.
func (s *Service) LogView(ctx context.Context, actor, tenantID, designID, view string, itemID int64) error {
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		return appendAudit(ctx, tx, auditRecord{Actor: actor, Action: ActionDesignViewed, TenantID: tenantID, DesignID: designID, ItemID: itemID,
			Data: map[string]any{"view": view}})
	})
	if err != nil {
		return fmt.Errorf("review: log view of %s: %w", designID, err)
	}
	return nil
}

// DesignAccess lists who viewed a design and when, newest first (at most
// limit, default 500). The design must be the caller's tenant's (platform
// callers: any tenant's): otherwise ErrNotFound.
func (s *Service) DesignAccess(ctx context.Context, tenantID string, platform bool, designID string, limit int) ([]Access, error) {
	if platform {
		if _, err := s.st.DesignByID(ctx, designID); err != nil {
			return nil, err
		}
	} else if _, err := s.st.Design(ctx, tenantID, designID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 5000 {
		limit = 500
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT id, at, actor, coalesce(item_id, 0), coalesce(data::jsonb ->> 'view', '') FROM (
		  SELECT 0::bigint AS id, seq, at, actor, item_id, data FROM review_audit_pending WHERE design_id = $1::uuid AND action = $2
		  UNION ALL
		  SELECT id, 0, at, actor, item_id, data FROM review_audit WHERE design_id = $1::uuid AND action = $2) a
		ORDER BY id = 0 DESC, id DESC, seq DESC LIMIT $3`, designID, ActionDesignViewed, limit)
	if err != nil {
		return nil, fmt.Errorf("review: access of %s: %w", designID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Access, error) {
		var a Access
		err := r.Scan(&a.AuditID, &a.At, &a.Actor, &a.ItemID, &a.View)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("review: access of %s: %w", designID, err)
	}
	if out == nil {
		out = []Access{}
	}
	return out, nil
}
