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

// itemCols are the columns scanItem reads (i: review_items, q: its queue).
const itemCols = `i.id, i.tenant_id::text, i.design_id::text, i.kind, i.queue, i.state, i.priority, i.verdict_id, i.policy_version, i.codes, i.rules,
	i.findings, i.automated, i.proposed, i.appeal_id, i.excluded, coalesce(i.claimed_by, ''), i.claimed_at, i.lease_until, i.claims, i.escalations,
	coalesce(i.decided_by, ''), i.decided_at, i.decision, coalesce(i.reason, ''), coalesce(i.note, ''), i.result_verdict_id, coalesce(i.closed_reason, ''),
	i.created_at, i.ready_at, q.sla_seconds`

func scanItem(r pgx.Row, extra ...any) (Item, error) {
	var it Item
	dest := []any{&it.ID, &it.TenantID, &it.DesignID, &it.Kind, &it.Queue, &it.State, &it.Priority, &it.VerdictID, &it.PolicyVersion, &it.Codes, &it.Rules,
		&it.Findings, &it.Automated, &it.Proposed, &it.AppealID, &it.Excluded, &it.ClaimedBy, &it.ClaimedAt, &it.LeaseUntil, &it.Claims, &it.Escalations,
		&it.DecidedBy, &it.DecidedAt, &it.Decision, &it.Reason, &it.Note, &it.ResultVerdictID, &it.ClosedReason,
		&it.CreatedAt, &it.ReadyAt, &it.SLASeconds}
	err := r.Scan(append(dest, extra...)...)
	if err != nil {
		return it, err
	}
	end := time.Now()
	if it.DecidedAt != nil {
		end = *it.DecidedAt
	}
	it.AgeSeconds = end.Sub(it.CreatedAt).Seconds()
	it.SLABreached = it.SLASeconds > 0 && it.AgeSeconds > float64(it.SLASeconds)
	if it.Findings == nil {
		it.Findings = []mustertype.Finding{}
	}
	return it, nil
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// mayRoles reports whether the reviewer's role is one of the roles of the
// item's queue (read with the item by lockItem).
func mayRoles(r Reviewer, queue string, roles []string) error {
	if !slices.Contains(roles, r.Role) {
		return fmt.Errorf("%w: role %s may not review the %s queue", ErrForbidden, r.Role, queue)
	}
	return nil
}

// mayQueue reports whether the reviewer's role may work the queue.
func mayQueue(ctx context.Context, q querier, r Reviewer, queue string) error {
	rows, err := q.Query(ctx, `SELECT roles FROM review_queues WHERE name = $1`, queue)
	if err != nil {
		return err
	}
	roles, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[[]string])
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("queue %q: %w", queue, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if !slices.Contains(roles, r.Role) {
		return fmt.Errorf("%w: role %s may not review the %s queue", ErrForbidden, r.Role, queue)
	}
	return nil
}

// Claim hands the reviewer the next item — of queue, or of any queue their
// role may review when queue is "" — with a lease of the configured
// length: highest priority first, then oldest. Items of other tenants (for
// reviewers outside the platform operator), items the reviewer skipped and
// appeals of their own decisions are never handed to them. Two reviewers
// are never handed the same item (FOR UPDATE SKIP LOCKED). ErrEmpty when
// nothing is waiting.
func (s *Service) Claim(ctx context.Context, r Reviewer, queue string) (Item, error) {
	if !reviewRole(r.Role) {
		return Item{}, fmt.Errorf("%w: role %s does not review", ErrForbidden, r.Role)
	}
	if queue != "" {
		if err := mayQueue(ctx, s.st.Pool(), r, queue); err != nil {
			return Item{}, err
		}
	}
	// One statement, one round trip, its own transaction: pick the next
	// item and lock it (FOR UPDATE SKIP LOCKED: two claimers never get the
	// same row), lease it, and record the claim's event (events_append,
	// the store's definition of an event row) and audit row
	// (review_audit_append) with it — all or nothing. The statement is
	// prepared once per connection and its plan cached: each variant has
	// only the filters it needs (no "$2 = '' OR …"), so a generic plan
	// walks the claim index as a custom one does.
	sql, args := claimStatement(s.cfg.Lease, r, queue)
	it, err := scanItem(s.st.Pool().QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrEmpty
	}
	if err != nil {
		return Item{}, fmt.Errorf("review: claim: %w", err)
	}
	if s.metrics != nil {
		s.metrics.ReviewClaims.WithLabelValues(it.Queue).Inc()
	}
	return it, nil
}

// claimSQL picks, leases and records a claim. $1 role, $2 reviewer, $3
// lease seconds, $4 audit action; %[1]s and %[2]s are the optional filters
// (claimStatement). The audit data is what Claim recorded before it was
// one statement: queue, lease_until, claims.
const claimSQL = `WITH next AS (
		SELECT i.id FROM review_items i
		WHERE i.state = 'open' AND (i.lease_until IS NULL OR i.lease_until <= now())
		  AND i.queue IN (SELECT name FROM review_queues WHERE $1 = ANY(roles))%[1]s%[2]s
		  AND NOT ($2 = ANY(i.excluded)) AND NOT ($2 = ANY(i.skipped_by))
		ORDER BY i.priority DESC, i.created_at, i.id
		LIMIT 1 FOR UPDATE OF i SKIP LOCKED),
	claimed AS (
		UPDATE review_items i SET claimed_by = $2, claimed_at = now(), lease_until = now() + make_interval(secs => $3), claims = i.claims + 1
		FROM next WHERE i.id = next.id
		RETURNING i.*),
	ev AS (
		SELECT events_append(c.tenant_id, c.design_id, 'review.claimed', $2, jsonb_build_object('item_id', c.id, 'queue', c.queue)) AS id FROM claimed c),
	au AS (
		SELECT review_audit_append($2, $4, c.tenant_id, c.design_id, c.id,
			jsonb_build_object('queue', c.queue, 'lease_until', c.lease_until, 'claims', c.claims)::text) AS seq FROM claimed c)
	SELECT %[3]s FROM claimed i JOIN review_queues q ON q.name = i.queue CROSS JOIN ev CROSS JOIN au`

// claimStatements are claimSQL's four variants: [by queue][tenant-scoped].
var claimStatements = func() (v [2][2]string) {
	for q, qf := range []string{"", "\n\t\t  AND i.queue = $5"} {
		for t := range 2 {
			tf := ""
			if t == 1 {
				tf = fmt.Sprintf("\n\t\t  AND i.tenant_id = $%d::uuid", 5+q)
			}
			v[q][t] = fmt.Sprintf(claimSQL, qf, tf, itemCols)
		}
	}
	return v
}()

// claimStatement is the claim statement for the reviewer (of one queue
// when queue is not empty) and its arguments.
func claimStatement(lease time.Duration, r Reviewer, queue string) (string, []any) {
	args := []any{r.Role, r.ID, lease.Seconds(), ActionClaimed}
	q, t := 0, 0
	if queue != "" {
		q, args = 1, append(args, queue)
	}
	if !r.Platform {
		t, args = 1, append(args, tenantOrZero(r.TenantID))
	}
	return claimStatements[q][t], args
}

// ExplainClaim runs the reviewer's claim statement under EXPLAIN
// (ANALYZE, BUFFERS) with the generic plan a cached statement uses
// (plan_cache_mode force_generic_plan), in a transaction it rolls back
// (nothing is claimed), and returns the plan: what make bench-review
// -explain prints, and what to look at when claims slow down.
func (s *Service) ExplainClaim(ctx context.Context, r Reviewer, queue string) (string, error) {
	sql, args := claimStatement(s.cfg.Lease, r, queue)
	lits := make([]string, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case string:
			lits[i] = "'" + strings.ReplaceAll(a, "'", "''") + "'"
		default:
			lits[i] = fmt.Sprint(a)
		}
	}
	var plan []string
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `PREPARE muster_explain_claim AS `+sql); err != nil {
			return err
		}
		defer tx.Exec(context.WithoutCancel(ctx), `DEALLOCATE muster_explain_claim`)
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) EXECUTE muster_explain_claim(`+strings.Join(lits, ", ")+`)`)
		if err != nil {
			return err
		}
		if plan, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		return errRollback
	})
	if err != nil && !errors.Is(err, errRollback) {
		return "", fmt.Errorf("review: explain claim: %w", err)
	}
	return strings.Join(plan, "\n"), nil
}

var errRollback = errors.New("rolled back")

func tenantOrZero(id string) string {
	if id == "" {
		return "00000000-0000-0000-0000-000000000000"
	}
	return id
}

// lockItem reads an item FOR UPDATE inside tx, in the reviewer's scope,
// with the roles that may review its queue (checked with mayRoles: no
// second round trip).
func lockItem(ctx context.Context, tx pgx.Tx, r Reviewer, id int64) (Item, []string, error) {
	var roles []string
	it, err := scanItem(tx.QueryRow(ctx, `SELECT `+itemCols+`, q.roles FROM review_items i JOIN review_queues q ON q.name = i.queue
		WHERE i.id = $1 AND ($2 OR i.tenant_id = $3::uuid) FOR UPDATE OF i`, id, r.Platform, tenantOrZero(r.TenantID)), &roles)
	if err != nil {
		return Item{}, nil, fmt.Errorf("review item %d: %w", id, notFound(err))
	}
	return it, roles, nil
}

// holding checks the reviewer holds a live lease on an open item.
func holding(it Item, r Reviewer, now time.Time) error {
	if it.State != StateOpen {
		return fmt.Errorf("item %d is %s: %w", it.ID, it.State, ErrNotOpen)
	}
	if it.ClaimedBy != r.ID || it.LeaseUntil == nil || !it.LeaseUntil.After(now) {
		return fmt.Errorf("item %d: %w", it.ID, ErrNotClaimed)
	}
	return nil
}

// Heartbeat renews the reviewer's lease on an item (the console calls it
// while the item is shown). A lease that expired is renewed too, as long
// as nobody else claimed the item meanwhile.
func (s *Service) Heartbeat(ctx context.Context, r Reviewer, id int64) (Item, error) {
	it, err := scanItem(s.st.Pool().QueryRow(ctx, `UPDATE review_items i SET lease_until = now() + make_interval(secs => $4)
		FROM review_queues q
		WHERE i.id = $1 AND q.name = i.queue AND i.state = 'open' AND i.claimed_by = $2 AND ($3 OR i.tenant_id = $5::uuid)
		  AND NOT ($2 = ANY(i.excluded))
		RETURNING `+itemCols, id, r.ID, r.Platform, s.cfg.Lease.Seconds(), tenantOrZero(r.TenantID)))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := s.Item(ctx, r, id); err != nil {
			return Item{}, err
		}
		return Item{}, fmt.Errorf("item %d: %w", id, ErrNotClaimed)
	}
	if err != nil {
		return Item{}, fmt.Errorf("review: heartbeat: %w", err)
	}
	return it, nil
}

// Release gives an item back to its queue (skip); the reviewer is not
// handed it again. An optional comment is kept with the item.
func (s *Service) Release(ctx context.Context, r Reviewer, id int64, comment string) (Item, error) {
	if err := checkComment(comment, false); err != nil {
		return Item{}, err
	}
	var it Item
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if it, _, err = lockItem(ctx, tx, r, id); err != nil {
			return err
		}
		if err := holding(it, r, time.Now()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE review_items SET lease_until = NULL, skipped_by = array_append(skipped_by, $2) WHERE id = $1`, id, r.ID); err != nil {
			return err
		}
		if comment != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO review_comments (item_id, author, body, kind) VALUES ($1, $2, $3, 'release')`, id, r.ID, comment); err != nil {
				return err
			}
		}
		it.LeaseUntil = nil
		if err := s.st.AppendEventTx(ctx, tx, it.TenantID, it.DesignID, "review.released", r.ID, map[string]any{"item_id": id}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionReleased, TenantID: it.TenantID, DesignID: it.DesignID, ItemID: id, Data: map[string]any{"comment": comment}})
	})
	if err != nil {
		return Item{}, fmt.Errorf("review: release: %w", err)
	}
	return it, nil
}

// Escalate moves an item the reviewer holds to another queue (a
// specialist's) with a comment; it re-enters that queue now, unclaimed.
func (s *Service) Escalate(ctx context.Context, r Reviewer, id int64, toQueue, comment string) (Item, error) {
	if err := checkComment(comment, true); err != nil {
		return Item{}, err
	}
	var it Item
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if it, _, err = lockItem(ctx, tx, r, id); err != nil {
			return err
		}
		if err := holding(it, r, time.Now()); err != nil {
			return err
		}
		if toQueue == it.Queue {
			return inputErr("invalid_queue", "item %d is already in %s", id, toQueue)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM review_queues WHERE name = $1)`, toQueue).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return inputErr("invalid_queue", "no queue %q", toQueue)
		}
		from := it.Queue
		if _, err := tx.Exec(ctx, `UPDATE review_items SET queue = $2, lease_until = NULL, ready_at = now(), escalations = escalations + 1, skipped_by = '{}' WHERE id = $1`, id, toQueue); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO review_comments (item_id, author, body, kind) VALUES ($1, $2, $3, 'escalation')`, id, r.ID, comment); err != nil {
			return err
		}
		if err := s.st.AppendEventTx(ctx, tx, it.TenantID, it.DesignID, "review.escalated", r.ID, map[string]any{"item_id": id, "from": from, "to": toQueue}); err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionEscalated, TenantID: it.TenantID, DesignID: it.DesignID, ItemID: id,
			Data: map[string]any{"from": from, "to": toQueue, "comment": comment}}); err != nil {
			return err
		}
		it, _, err = lockItem(ctx, tx, r, id)
		return err
	})
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return Item{}, ie
		}
		return Item{}, fmt.Errorf("review: escalate: %w", err)
	}
	return it, nil
}

// Comment is an internal comment on an item (never shown to merchants).
type Comment struct {
	ID     int64  `json:"id"`
	ItemID int64  `json:"item_id"`
	Author string `json:"author"`
	Body   string `json:"body"`
	// Kind is comment, escalation or release.
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

func checkComment(body string, required bool) error {
	if required && strings.TrimSpace(body) == "" {
		return inputErr("invalid_comment", "a comment is required")
	}
	if len(body) > 10000 {
		return inputErr("invalid_comment", "a comment is at most 10000 bytes")
	}
	return nil
}

// AddComment adds an internal comment to an item in the reviewer's scope
// (no lease needed: anyone who may review its queue may comment).
func (s *Service) AddComment(ctx context.Context, r Reviewer, id int64, body string) (Comment, error) {
	if err := checkComment(body, true); err != nil {
		return Comment{}, err
	}
	var c Comment
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		it, roles, err := lockItem(ctx, tx, r, id)
		if err != nil {
			return err
		}
		if err := mayRoles(r, it.Queue, roles); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO review_comments (item_id, author, body) VALUES ($1, $2, $3) RETURNING id, item_id, author, body, kind, created_at`,
			id, r.ID, body).Scan(&c.ID, &c.ItemID, &c.Author, &c.Body, &c.Kind, &c.CreatedAt); err != nil {
			return err
		}
		if err := s.st.AppendEventTx(ctx, tx, it.TenantID, it.DesignID, "review.commented", r.ID, map[string]any{"item_id": id, "comment_id": c.ID}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionCommented, TenantID: it.TenantID, DesignID: it.DesignID, ItemID: id, Data: map[string]any{"comment_id": c.ID, "body": body}})
	})
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return Comment{}, ie
		}
		return Comment{}, fmt.Errorf("review: comment: %w", err)
	}
	return c, nil
}

// Comments lists an item's comments, oldest first.
func (s *Service) Comments(ctx context.Context, r Reviewer, id int64) ([]Comment, error) {
	if _, err := s.Item(ctx, r, id); err != nil {
		return nil, err
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT id, item_id, author, body, kind, created_at FROM review_comments WHERE item_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("review: comments: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Comment, error) {
		var c Comment
		err := r.Scan(&c.ID, &c.ItemID, &c.Author, &c.Body, &c.Kind, &c.CreatedAt)
		return c, err
	})
}

// SetPriority changes an open item's priority (higher is claimed first).
func (s *Service) SetPriority(ctx context.Context, r Reviewer, id int64, priority int) (Item, error) {
	var it Item
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		var roles []string
		if it, roles, err = lockItem(ctx, tx, r, id); err != nil {
			return err
		}
		if err := mayRoles(r, it.Queue, roles); err != nil {
			return err
		}
		if it.State != StateOpen {
			return fmt.Errorf("item %d is %s: %w", id, it.State, ErrNotOpen)
		}
		if _, err := tx.Exec(ctx, `UPDATE review_items SET priority = $2 WHERE id = $1`, id, priority); err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionPriority, TenantID: it.TenantID, DesignID: it.DesignID, ItemID: id,
			Data: map[string]any{"from": it.Priority, "to": priority}}); err != nil {
			return err
		}
		it.Priority = priority
		return nil
	})
	if err != nil {
		return Item{}, fmt.Errorf("review: set priority: %w", err)
	}
	return it, nil
}

// Item returns one item in the reviewer's scope.
func (s *Service) Item(ctx context.Context, r Reviewer, id int64) (Item, error) {
	if !reviewRole(r.Role) {
		return Item{}, fmt.Errorf("%w: role %s does not review", ErrForbidden, r.Role)
	}
	it, err := scanItem(s.st.Pool().QueryRow(ctx, `SELECT `+itemCols+` FROM review_items i JOIN review_queues q ON q.name = i.queue
		WHERE i.id = $1 AND ($2 OR i.tenant_id = $3::uuid)`, id, r.Platform, tenantOrZero(r.TenantID)))
	if err != nil {
		return Item{}, fmt.Errorf("review item %d: %w", id, notFound(err))
	}
	return it, nil
}

// ItemFilter selects items.
type ItemFilter struct {
	Queue, State, Kind, DesignID, DecidedBy string
	// BeforeID pages (items with a smaller id); Limit caps (default 100).
	BeforeID int64
	Limit    int
}

// Items lists items in the reviewer's scope, newest first.
func (s *Service) Items(ctx context.Context, r Reviewer, f ItemFilter) ([]Item, error) {
	if !reviewRole(r.Role) {
		return nil, fmt.Errorf("%w: role %s does not review", ErrForbidden, r.Role)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT `+itemCols+` FROM review_items i JOIN review_queues q ON q.name = i.queue
		WHERE ($1 OR i.tenant_id = $2::uuid) AND ($3 = '' OR i.queue = $3) AND ($4 = '' OR i.state = $4) AND ($5 = '' OR i.kind = $5)
		  AND ($6 = '' OR i.design_id::text = $6) AND ($7 = '' OR i.decided_by = $7) AND ($8 = 0 OR i.id < $8)
		ORDER BY i.id DESC LIMIT $9`, r.Platform, tenantOrZero(r.TenantID), f.Queue, f.State, f.Kind, f.DesignID, f.DecidedBy, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("review: items: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Item, error) { return scanItem(r) })
	if err != nil {
		return nil, fmt.Errorf("review: items: %w", err)
	}
	return out, nil
}

// ItemContext is everything a reviewer needs to decide an item: the item,
// the design and its verdicts, its findings, comments, the item's audit
// history, the appeal (if any) and the merchant's other recent designs.
type ItemContext struct {
	Item     Item                 `json:"item"`
	Design   store.Design         `json:"design"`
	Verdict  *store.Verdict       `json:"verdict"`
	Verdicts []store.Verdict      `json:"verdicts"`
	Findings []mustertype.Finding `json:"findings"`
	Comments []Comment            `json:"comments"`
	History  []AuditEntry         `json:"history"`
	Appeal   *Appeal              `json:"appeal,omitempty"`
	// Others are the merchant's most recent other designs, with the latest
	// verdict of each (nil: none yet) in OtherVerdicts, same order: the
	// merchant's track record (what was blocked, what a reviewer decided).
	Others        []store.Design   `json:"others"`
	OtherVerdicts []*store.Verdict `json:"other_verdicts"`
	// PastItems are earlier review items of this design.
	PastItems []Item `json:"past_items"`
	// Corrections are the "not this mark" corrections that apply to the
	// design's bytes.
	Corrections []Correction `json:"corrections"`
}

// Context gathers an item's ItemContext.
func (s *Service) Context(ctx context.Context, r Reviewer, id int64) (ItemContext, error) {
	it, err := s.Item(ctx, r, id)
	if err != nil {
		return ItemContext{}, err
	}
	c := ItemContext{Item: it}
	if c.Design, err = s.st.Design(ctx, it.TenantID, it.DesignID); err != nil {
		return c, err
	}
	if c.Verdicts, err = s.st.Verdicts(ctx, it.DesignID); err != nil {
		return c, err
	}
	if n := len(c.Verdicts); n > 0 {
		c.Verdict = &c.Verdicts[n-1]
	}
	if c.Findings, err = s.st.Findings(ctx, it.DesignID); err != nil {
		return c, err
	}
	if c.Comments, err = s.Comments(ctx, r, id); err != nil {
		return c, err
	}
	if c.History, err = s.Audit(ctx, r, AuditFilter{ItemID: id, Limit: 200}); err != nil {
		return c, err
	}
	if it.AppealID != nil {
		a, err := s.appeal(ctx, *it.AppealID)
		if err != nil {
			return c, err
		}
		c.Appeal = &a
	}
	others, err := s.st.Designs(ctx, it.TenantID, "", 21)
	if err != nil {
		return c, err
	}
	for _, d := range others {
		if d.ID != it.DesignID && len(c.Others) < 20 {
			c.Others = append(c.Others, d)
			v, err := s.st.LatestVerdict(ctx, d.ID)
			switch {
			case err == nil:
				c.OtherVerdicts = append(c.OtherVerdicts, &v)
			case errors.Is(err, store.ErrNotFound):
				c.OtherVerdicts = append(c.OtherVerdicts, nil)
			default:
				return c, err
			}
		}
	}
	items, err := s.Items(ctx, r, ItemFilter{DesignID: it.DesignID, Limit: 50})
	if err != nil {
		return c, err
	}
	for _, p := range items {
		if p.ID != id {
			c.PastItems = append(c.PastItems, p)
		}
	}
	if c.Corrections, err = s.Corrections(ctx, r, id); err != nil {
		return c, err
	}
	return c, nil
}
