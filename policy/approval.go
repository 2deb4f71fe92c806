package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Approval statuses.
const (
	ApprovalPending   = "pending"
	ApprovalApproved  = "approved"
	ApprovalRejected  = "rejected"
	ApprovalWithdrawn = "withdrawn"
)

// Approval is a publication of one draft revision that waits for a second
// legal approver (four eyes). At most one is pending; while it is, the
// draft cannot be published directly.
type Approval struct {
	ID            int64      `json:"id"`
	DraftRevision int64      `json:"draft_revision"`
	BaseVersion   *int       `json:"base_version,omitempty"`
	ContentSHA256 string     `json:"content_sha256"`
	Note          string     `json:"note"`
	RequestedBy   string     `json:"requested_by"`
	RequestedAt   time.Time  `json:"requested_at"`
	Status        string     `json:"status"`
	DecidedBy     string     `json:"decided_by,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	DecisionNote  string     `json:"decision_note,omitempty"`
	// Version is the version the approval published.
	Version *int `json:"version,omitempty"`
}

const approvalCols = `id, draft_revision, base_version, content_sha256, note, requested_by, requested_at, status,
	coalesce(decided_by, ''), decided_at, coalesce(decision_note, ''), version`

func scanApproval(r pgx.Row) (Approval, error) {
	var a Approval
	err := r.Scan(&a.ID, &a.DraftRevision, &a.BaseVersion, &a.ContentSHA256, &a.Note, &a.RequestedBy, &a.RequestedAt, &a.Status,
		&a.DecidedBy, &a.DecidedAt, &a.DecisionNote, &a.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return Approval{}, ErrNotFound
	}
	return a, err
}

// RequestPublish asks a second legal user to publish the draft at
// req.DraftRevision (0: the current revision) with req.Note. Legal only.
func (s *Store) RequestPublish(ctx context.Context, a Actor, req PublishRequest) (Approval, error) {
	if err := a.require(RoleLegal); err != nil {
		return Approval{}, err
	}
	if strings.TrimSpace(req.Note) == "" {
		return Approval{}, errors.New("policy: request publication: a change note is required")
	}
	var out Approval
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var content string
		var rev int64
		var base *int
		var published *int64
		if err := tx.QueryRow(ctx, `SELECT content, revision, base_version, published_revision FROM policy_draft FOR UPDATE`).Scan(&content, &rev, &base, &published); err != nil {
			return fmt.Errorf("draft: %w", err)
		}
		switch {
		case req.DraftRevision != 0 && req.DraftRevision != rev:
			return fmt.Errorf("%w: the draft is at revision %d, not %d", ErrConflict, rev, req.DraftRevision)
		case published != nil && *published == rev:
			return fmt.Errorf("%w: draft revision %d is already live", ErrConflict, rev)
		}
		var err error
		out, err = scanApproval(tx.QueryRow(ctx, `INSERT INTO policy_approvals (draft_revision, base_version, content_sha256, note, requested_by)
			SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM policy_approvals WHERE status = 'pending')
			RETURNING `+approvalCols, rev, base, sum([]byte(content)), req.Note, a.Name))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: another publication already waits for approval", ErrConflict)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, "publish.request", a, base, map[string]any{"approval": out.ID, "draft_revision": rev, "note": req.Note})
	})
	if err != nil {
		return Approval{}, fmt.Errorf("policy: request publication: %w", err)
	}
	return out, nil
}

// PendingApproval returns the publication waiting for approval, or
// ErrNotFound.
func (s *Store) PendingApproval(ctx context.Context) (Approval, error) {
	a, err := scanApproval(s.pool.QueryRow(ctx, `SELECT `+approvalCols+` FROM policy_approvals WHERE status = 'pending'`))
	if err != nil {
		return Approval{}, fmt.Errorf("policy: pending approval: %w", err)
	}
	return a, nil
}

// Approvals lists approval requests, newest first.
func (s *Store) Approvals(ctx context.Context, limit int) ([]Approval, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+approvalCols+` FROM policy_approvals ORDER BY id DESC LIMIT $1`, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("policy: approvals: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Approval, error) { return scanApproval(r) })
	if err != nil {
		return nil, fmt.Errorf("policy: approvals: %w", err)
	}
	return out, nil
}

// ApprovePublish publishes the draft revision of pending approval id as a
// second legal user (not the requester). The draft must still be at that
// revision with that content (ErrConflict otherwise: reject it and ask
// again).
func (s *Store) ApprovePublish(ctx context.Context, a Actor, id int64, note string) (Version, error) {
	if err := a.require(RoleLegal); err != nil {
		return Version{}, err
	}
	var out Version
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ap, err := scanApproval(tx.QueryRow(ctx, `SELECT `+approvalCols+` FROM policy_approvals WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("approval %d: %w", id, err)
		}
		if ap.Status != ApprovalPending {
			return fmt.Errorf("%w: approval %d is %s", ErrConflict, id, ap.Status)
		}
		if ap.RequestedBy == a.Name {
			return fmt.Errorf("%w: the second approver must be someone other than %s, who asked", ErrForbidden, a.Name)
		}
		var content string
		if err := tx.QueryRow(ctx, `SELECT content FROM policy_draft`).Scan(&content); err != nil {
			return err
		}
		if sum([]byte(content)) != ap.ContentSHA256 {
			return fmt.Errorf("%w: the draft changed since publication was requested", ErrConflict)
		}
		versionNote := ap.Note + " (requested by " + ap.RequestedBy + ", approved by " + a.Name + ")"
		out, err = s.publishTx(ctx, tx, a, PublishRequest{Note: versionNote, DraftRevision: ap.DraftRevision},
			map[string]any{"approval": ap.ID, "requested_by": ap.RequestedBy, "approved_by": a.Name, "approval_note": note})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE policy_approvals SET status = 'approved', decided_by = $2, decided_at = now(), decision_note = $3, version = $4 WHERE id = $1`,
			id, a.Name, note, out.Version)
		return err
	})
	if err != nil {
		return Version{}, fmt.Errorf("policy: approve publication: %w", err)
	}
	return out, nil
}

// RejectPublish closes pending approval id without publishing: rejected by
// another legal user (a note is required), or withdrawn by the requester.
func (s *Store) RejectPublish(ctx context.Context, a Actor, id int64, note string) error {
	if err := a.require(RoleLegal); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ap, err := scanApproval(tx.QueryRow(ctx, `SELECT `+approvalCols+` FROM policy_approvals WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("approval %d: %w", id, err)
		}
		if ap.Status != ApprovalPending {
			return fmt.Errorf("%w: approval %d is %s", ErrConflict, id, ap.Status)
		}
		status, action := ApprovalRejected, "publish.reject"
		if ap.RequestedBy == a.Name {
			status, action = ApprovalWithdrawn, "publish.withdraw"
		} else if strings.TrimSpace(note) == "" {
			return errors.New("a rejection needs a note saying why")
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_approvals SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4 WHERE id = $1`,
			id, status, a.Name, note); err != nil {
			return err
		}
		return audit(ctx, tx, action, a, ap.BaseVersion, map[string]any{"approval": id, "note": note, "requested_by": ap.RequestedBy})
	})
	if err != nil {
		return fmt.Errorf("policy: reject publication: %w", err)
	}
	return nil
}
