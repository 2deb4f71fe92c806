package review

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/muster-dev/muster/internal/metrics"
	"github.com/muster-dev/muster/store"
)

// Queue is a review queue: who may review it and its SLA.
type Queue struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Roles       []string `json:"roles"`
	SLASeconds  int      `json:"sla_seconds"`
	// Default receives items no route matches.
	Default   bool      `json:"default"`
	Position  int       `json:"position"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Route sends items whose reasons match Pattern to Queue. Routes are
// evaluated by Position; the first matching any of an item's reasons wins.
type Route struct {
	ID       int64 `json:"id"`
	Position int   `json:"position"`
	// MatchOn is "code" (a rule's code), "rule" (a rule's name) or
	// "finding" (a finding type the rules relied on).
	MatchOn string `json:"match_on"`
	// Pattern is a glob (path.Match syntax): "trademark_*".
	Pattern string `json:"pattern"`
	Queue   string `json:"queue"`
	// Priority is added to the item's priority (higher is claimed first).
	Priority  int       `json:"priority"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// QueueStats is a queue with its live counts, for the queue page.
type QueueStats struct {
	Queue
	// Pending items wait unclaimed; Claimed are under a live lease.
	Pending int `json:"pending"`
	Claimed int `json:"claimed"`
	// OldestReadySeconds is the age of the oldest pending item.
	OldestReadySeconds float64 `json:"oldest_ready_seconds"`
	// OverSLA counts open items older than SLASeconds.
	OverSLA int `json:"over_sla"`
	// MayReview reports whether the asking reviewer's role may claim here.
	MayReview bool `json:"may_review"`
}

func reviewRole(role string) bool {
	return role == store.RoleReviewer || role == store.RoleLegal || role == store.RoleAdmin
}

const queueCols = `name, title, description, roles, sla_seconds, is_default, position, updated_at, updated_by`

func scanQueue(r pgx.CollectableRow) (Queue, error) {
	var q Queue
	err := r.Scan(&q.Name, &q.Title, &q.Description, &q.Roles, &q.SLASeconds, &q.Default, &q.Position, &q.UpdatedAt, &q.UpdatedBy)
	return q, err
}

// Queues lists every queue with its counts in the reviewer's scope.
func (s *Service) Queues(ctx context.Context, r Reviewer) ([]QueueStats, error) {
	if !reviewRole(r.Role) {
		return nil, fmt.Errorf("%w: role %s does not review", ErrForbidden, r.Role)
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT `+queueCols+` FROM review_queues ORDER BY position, name`)
	if err != nil {
		return nil, fmt.Errorf("review: queues: %w", err)
	}
	qs, err := pgx.CollectRows(rows, scanQueue)
	if err != nil {
		return nil, fmt.Errorf("review: queues: %w", err)
	}
	counts, err := s.queueCounts(ctx, r.Platform, r.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]QueueStats, len(qs))
	for i, q := range qs {
		out[i] = QueueStats{Queue: q, MayReview: slices.Contains(q.Roles, r.Role)}
		if c, ok := counts[q.Name]; ok {
			out[i].Pending, out[i].Claimed, out[i].OldestReadySeconds, out[i].OverSLA = c.Pending, c.Claimed, c.OldestReadySeconds, c.OverSLA
		}
	}
	return out, nil
}

// queueCounts counts open items per queue (all tenants when all is true).
func (s *Service) queueCounts(ctx context.Context, all bool, tenantID string) (map[string]metrics.QueueGauge, error) {
	if tenantID == "" {
		tenantID = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := s.st.Pool().Query(ctx, `SELECT q.name,
			count(i.id) FILTER (WHERE i.lease_until IS NULL OR i.lease_until <= now()),
			count(i.id) FILTER (WHERE i.lease_until > now()),
			coalesce(extract(epoch FROM now() - min(i.ready_at) FILTER (WHERE i.lease_until IS NULL OR i.lease_until <= now())), 0)::float8,
			count(i.id) FILTER (WHERE i.created_at < now() - make_interval(secs => q.sla_seconds))
		FROM review_queues q LEFT JOIN review_items i ON i.queue = q.name AND i.state = 'open' AND ($1 OR i.tenant_id = $2::uuid)
		GROUP BY q.name`, all, tenantID)
	if err != nil {
		return nil, fmt.Errorf("review: queue counts: %w", err)
	}
	out := map[string]metrics.QueueGauge{}
	var g metrics.QueueGauge
	if _, err := pgx.ForEachRow(rows, []any{&g.Queue, &g.Pending, &g.Claimed, &g.OldestReadySeconds, &g.OverSLA}, func() error {
		out[g.Queue] = g
		return nil
	}); err != nil {
		return nil, fmt.Errorf("review: queue counts: %w", err)
	}
	return out, nil
}

// QueueGauges reads every queue's state for /metrics.
func (s *Service) QueueGauges(ctx context.Context) ([]metrics.QueueGauge, error) {
	m, err := s.queueCounts(ctx, true, "")
	if err != nil {
		return nil, err
	}
	out := make([]metrics.QueueGauge, 0, len(m))
	for _, g := range m {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b metrics.QueueGauge) int {
		if a.Queue < b.Queue {
			return -1
		}
		return 1
	})
	return out, nil
}

var queueName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// requirePlatformAdmin guards changes to queues and routes: they apply to
// every tenant's items.
func requirePlatformAdmin(r Reviewer) error {
	if !r.Platform || (r.Role != store.RoleAdmin && r.Role != store.RoleLegal) {
		return fmt.Errorf("%w: queues and routing are changed by the platform operator's admin or legal staff", ErrForbidden)
	}
	return nil
}

// SaveQueue creates or updates a queue.
func (s *Service) SaveQueue(ctx context.Context, r Reviewer, q Queue) (Queue, error) {
	if err := requirePlatformAdmin(r); err != nil {
		return Queue{}, err
	}
	if !queueName.MatchString(q.Name) {
		return Queue{}, inputErr("invalid_queue", "queue name must match %s", queueName)
	}
	if q.Title == "" {
		q.Title = q.Name
	}
	if len(q.Roles) == 0 {
		return Queue{}, inputErr("invalid_queue", "a queue needs at least one role (reviewer, legal, admin)")
	}
	for _, role := range q.Roles {
		if !reviewRole(role) {
			return Queue{}, inputErr("invalid_queue", "role %q may not review: want reviewer, legal or admin", role)
		}
	}
	if q.SLASeconds <= 0 {
		q.SLASeconds = 86400
	}
	if q.Position == 0 {
		q.Position = 100
	}
	var out Queue
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		if q.Default {
			if _, err := tx.Exec(ctx, `UPDATE review_queues SET is_default = false WHERE is_default AND name <> $1`, q.Name); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `INSERT INTO review_queues (name, title, description, roles, sla_seconds, is_default, position, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description, roles = EXCLUDED.roles,
				sla_seconds = EXCLUDED.sla_seconds, is_default = EXCLUDED.is_default OR review_queues.is_default, position = EXCLUDED.position,
				updated_at = now(), updated_by = EXCLUDED.updated_by
			RETURNING `+queueCols, q.Name, q.Title, q.Description, q.Roles, q.SLASeconds, q.Default, q.Position, r.ID)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectExactlyOneRow(rows, scanQueue); err != nil {
			return err
		}
		return appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionQueueSaved, Data: out})
	})
	if err != nil {
		return Queue{}, fmt.Errorf("review: save queue %s: %w", q.Name, err)
	}
	return out, nil
}

// Routes lists the routing rules in evaluation order.
func (s *Service) Routes(ctx context.Context) ([]Route, error) {
	return loadRoutes(ctx, s.st.Pool())
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func loadRoutes(ctx context.Context, q querier) ([]Route, error) {
	rows, err := q.Query(ctx, `SELECT id, position, match_on, pattern, queue, priority, note, created_at, created_by FROM review_routes ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("review: routes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Route, error) {
		var rt Route
		err := r.Scan(&rt.ID, &rt.Position, &rt.MatchOn, &rt.Pattern, &rt.Queue, &rt.Priority, &rt.Note, &rt.CreatedAt, &rt.CreatedBy)
		return rt, err
	})
	if err != nil {
		return nil, fmt.Errorf("review: routes: %w", err)
	}
	return out, nil
}

// SetRoutes replaces the routing table (positions follow the slice order
// when zero). Items already queued stay where they are.
func (s *Service) SetRoutes(ctx context.Context, r Reviewer, routes []Route) ([]Route, error) {
	if err := requirePlatformAdmin(r); err != nil {
		return nil, err
	}
	if len(routes) > 1000 {
		return nil, inputErr("invalid_routes", "at most 1000 routes")
	}
	for i, rt := range routes {
		if rt.MatchOn != "code" && rt.MatchOn != "rule" && rt.MatchOn != "finding" {
			return nil, inputErr("invalid_routes", "route %d: match_on must be code, rule or finding", i)
		}
		if _, err := path.Match(rt.Pattern, ""); err != nil || rt.Pattern == "" {
			return nil, inputErr("invalid_routes", "route %d: pattern %q is not a valid glob", i, rt.Pattern)
		}
		if rt.Queue == QueueAppeals || rt.Queue == QueueQA {
			return nil, inputErr("invalid_routes", "route %d: the %s queue is filled by its own workflow, not by routes", i, rt.Queue)
		}
	}
	var out []Route
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM review_routes`); err != nil {
			return err
		}
		for i, rt := range routes {
			pos := rt.Position
			if pos == 0 {
				pos = (i + 1) * 10
			}
			if _, err := tx.Exec(ctx, `INSERT INTO review_routes (position, match_on, pattern, queue, priority, note, created_by) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
				pos, rt.MatchOn, rt.Pattern, rt.Queue, rt.Priority, rt.Note, r.ID); err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "23503" {
					return inputErr("invalid_routes", "route %d: no queue %q", i, rt.Queue)
				}
				return err
			}
		}
		var err error
		if out, err = loadRoutes(ctx, tx); err != nil {
			return err
		}
		return appendAudit(ctx, tx, auditRecord{Actor: r.ID, Action: ActionRoutesSet, Data: map[string]any{"routes": out}})
	})
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, ie
		}
		return nil, fmt.Errorf("review: set routes: %w", err)
	}
	return out, nil
}

// why is what asked for review: the codes and rules that fired with a
// review outcome, and the finding types they relied on.
type why struct {
	codes, rules, findingTypes []string
}

// route picks the queue and priority for an item: the first route (by
// position) matching any reason, else the default queue.
func route(routes []Route, w why, defaultQueue string) (string, int) {
	for _, rt := range routes {
		var vals []string
		switch rt.MatchOn {
		case "code":
			vals = w.codes
		case "rule":
			vals = w.rules
		case "finding":
			vals = w.findingTypes
		}
		for _, v := range vals {
			if ok, _ := path.Match(rt.Pattern, v); ok {
				return rt.Queue, rt.Priority
			}
		}
	}
	return defaultQueue, 0
}
