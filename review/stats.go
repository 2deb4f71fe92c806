package review

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReviewerStats is one reviewer's work over a window: what a team lead
// looks at (throughput, handle time, how often decisions are skipped,
// escalated or overturned on appeal).
type ReviewerStats struct {
	Reviewer string `json:"reviewer"`
	// Decided items (bulk decisions included), and of them those with a
	// block in some market.
	Decided int `json:"decided"`
	Blocked int `json:"blocked"`
	// Handle time: claim to decision of the items decided under a lease,
	// median and 90th percentile, in seconds.
	HandleP50 float64 `json:"handle_p50_seconds"`
	HandleP90 float64 `json:"handle_p90_seconds"`
	// Skipped and Escalated count the reviewer's releases and escalations.
	Skipped   int `json:"skipped"`
	Escalated int `json:"escalated"`
	// Appealed counts appeals decided against this reviewer's decisions;
	// Overturned those another reviewer overturned.
	Appealed   int `json:"appealed"`
	Overturned int `json:"overturned"`
}

// Stats reports every reviewer's work since the given time, in the
// reviewer's scope (the platform's staff: every tenant's items; a tenant's
// reviewers: their tenant's), most decisions first. Skips and escalations
// are counted from the audit log (a scan of its rows: a page a team lead
// opens, not a dashboard to poll every second).
func (s *Service) Stats(ctx context.Context, r Reviewer, since time.Time) ([]ReviewerStats, error) {
	if !reviewRole(r.Role) {
		return nil, fmt.Errorf("%w: role %s does not review", ErrForbidden, r.Role)
	}
	rows, err := s.st.Pool().Query(ctx, `WITH scope AS (SELECT $1::bool AS all_tenants, $2::uuid AS tenant, $3::timestamptz AS since),
	decided AS (
		SELECT i.decided_by AS reviewer, count(*) AS decided,
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jsonb_each_text(i.decision) d WHERE d.value = 'block')) AS blocked,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM i.decided_at - i.claimed_at)) FILTER (WHERE i.claimed_at IS NOT NULL AND i.claimed_at <= i.decided_at) AS p50,
			percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM i.decided_at - i.claimed_at)) FILTER (WHERE i.claimed_at IS NOT NULL AND i.claimed_at <= i.decided_at) AS p90
		FROM review_items i, scope
		WHERE i.state = 'decided' AND i.decided_at >= scope.since AND (scope.all_tenants OR i.tenant_id = scope.tenant)
		GROUP BY i.decided_by),
	actions AS (
		SELECT a.actor AS reviewer, count(*) FILTER (WHERE a.action = $4) AS skipped, count(*) FILTER (WHERE a.action = $5) AS escalated
		FROM (SELECT actor, action, at, tenant_id FROM review_audit UNION ALL SELECT actor, action, at, tenant_id FROM review_audit_pending) a, scope
		WHERE a.action IN ($4, $5) AND a.at >= scope.since AND (scope.all_tenants OR a.tenant_id = scope.tenant)
		GROUP BY a.actor),
	appeals AS (
		SELECT x AS reviewer, count(*) AS appealed, count(*) FILTER (WHERE p.state = 'overturned') AS overturned
		FROM review_appeals p JOIN review_items i ON i.appeal_id = p.id AND i.kind = 'appeal', unnest(i.excluded) x, scope
		WHERE p.state IN ('upheld', 'overturned') AND p.decided_at >= scope.since AND (scope.all_tenants OR i.tenant_id = scope.tenant)
		GROUP BY x)
	SELECT r.reviewer, coalesce(d.decided, 0), coalesce(d.blocked, 0), coalesce(d.p50, 0), coalesce(d.p90, 0),
		coalesce(a.skipped, 0), coalesce(a.escalated, 0), coalesce(p.appealed, 0), coalesce(p.overturned, 0)
	FROM (SELECT reviewer FROM decided UNION SELECT reviewer FROM actions UNION SELECT reviewer FROM appeals) r
	LEFT JOIN decided d USING (reviewer) LEFT JOIN actions a USING (reviewer) LEFT JOIN appeals p USING (reviewer)
	ORDER BY coalesce(d.decided, 0) DESC, r.reviewer`,
		r.Platform, tenantOrZero(r.TenantID), since, ActionReleased, ActionEscalated)
	if err != nil {
		return nil, fmt.Errorf("review: stats: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ReviewerStats, error) {
		var st ReviewerStats
		err := row.Scan(&st.Reviewer, &st.Decided, &st.Blocked, &st.HandleP50, &st.HandleP90, &st.Skipped, &st.Escalated, &st.Appealed, &st.Overturned)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("review: stats: %w", err)
	}
	if out == nil {
		out = []ReviewerStats{}
	}
	return out, nil
}
