package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Design statuses.
const (
	StatusQueued    = "queued"
	StatusAnalyzing = "analyzing"
	StatusDecided   = "decided"
	StatusFailed    = "failed"
)

// NewDesign is a validated submission.
type NewDesign struct {
	ID             string
	TenantID       string
	SHA256         string
	Bytes          int64
	Width, Height  int
	MediaType      string
	Product        string
	Markets        []string
	Title          string
	Tags           []string
	Description    string
	IdempotencyKey string
	// Force skips de-duplication by content: a new design is always created.
	Force bool
	// MaxPending is the tenant's quota of designs waiting for a verdict
	// (0: none). A new design beyond it is a *QuotaError; a repeat of an
	// earlier submission is still answered with that design.
	MaxPending int
}

// SubmissionKey identifies "the same submission": same bytes, product,
// markets and text fields.
func (d NewDesign) SubmissionKey() string {
	m := slices.Clone(d.Markets)
	slices.Sort(m)
	t := slices.Clone(d.Tags)
	slices.Sort(t)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s", d.SHA256, d.Product, strings.Join(m, ","), d.Title, strings.Join(t, "\x01"), d.Description)
	return hex.EncodeToString(h.Sum(nil))
}

// Design is a stored design.
type Design struct {
	ID            string     `json:"id"`
	TenantID      string     `json:"tenant_id"`
	SHA256        string     `json:"sha256"`
	Bytes         int64      `json:"bytes"`
	Width         int        `json:"width"`
	Height        int        `json:"height"`
	MediaType     string     `json:"media_type"`
	Product       string     `json:"product"`
	Markets       []string   `json:"markets"`
	Title         string     `json:"title"`
	Tags          []string   `json:"tags"`
	Description   string     `json:"description,omitempty"`
	Status        string     `json:"status"`
	FailureReason string     `json:"failure_reason,omitempty"`
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	idemKey       string
	submissionKey string
}

const designCols = `id, tenant_id, sha256, bytes, width, height, media_type, product, markets, title, tags, description,
	status, coalesce(failure_reason, ''), attempts, created_at, updated_at, started_at, decided_at,
	coalesce(idempotency_key, ''), coalesce(submission_key, '')`

func scanDesign(r pgx.Row) (Design, error) {
	var d Design
	err := r.Scan(&d.ID, &d.TenantID, &d.SHA256, &d.Bytes, &d.Width, &d.Height, &d.MediaType, &d.Product, &d.Markets,
		&d.Title, &d.Tags, &d.Description, &d.Status, &d.FailureReason, &d.Attempts, &d.CreatedAt, &d.UpdatedAt,
		&d.StartedAt, &d.DecidedAt, &d.idemKey, &d.submissionKey)
	return d, err
}

// InsertDesign stores a new design in status queued, de-duplicating by
// idempotency key and by submission. It returns the stored design and
// whether it was created now (false: an earlier identical submission).
// An idempotency key reused for a different submission is ErrConflict.
func (s *Store) InsertDesign(ctx context.Context, nd NewDesign) (Design, bool, error) {
	var subKey *string
	if !nd.Force {
		k := nd.SubmissionKey()
		subKey = &k
	}
	var idem *string
	if nd.IdempotencyKey != "" {
		idem = &nd.IdempotencyKey
	}
	if nd.Tags == nil {
		nd.Tags = []string{}
	}
	var d Design
	var quota *QuotaError
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Hold the blob's lock shared: blob collection cannot delete it
		// between the upload storing it and this row committing.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(`+blobLockSQL+`)`, nd.SHA256); err != nil {
			return err
		}
		if nd.MaxPending > 0 {
			// One tenant's inserts are serialised here, so concurrent
			// uploads on several API instances cannot overshoot the quota.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('muster.quota:' || $1, 0))`, nd.TenantID); err != nil {
				return err
			}
			var pending int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM designs WHERE tenant_id = $1 AND status IN ('queued', 'analyzing')`, nd.TenantID).Scan(&pending); err != nil {
				return err
			}
			if pending >= nd.MaxPending {
				quota = &QuotaError{Limit: nd.MaxPending, Pending: pending}
				return pgx.ErrNoRows // look for an earlier identical submission below
			}
		}
		var err error
		d, err = scanDesign(tx.QueryRow(ctx, `INSERT INTO designs (id, tenant_id, sha256, bytes, width, height, media_type, product,
			markets, title, tags, description, submission_key, idempotency_key, status)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,'queued')
			ON CONFLICT DO NOTHING RETURNING `+designCols,
			nd.ID, nd.TenantID, nd.SHA256, nd.Bytes, nd.Width, nd.Height, nd.MediaType, nd.Product, nd.Markets,
			nd.Title, nd.Tags, nd.Description, subKey, idem))
		if err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `INSERT INTO events (tenant_id, design_id, type, data) VALUES ($1, $2, 'design.submitted', $3)`,
			nd.TenantID, nd.ID, map[string]any{"sha256": nd.SHA256, "product": nd.Product, "markets": nd.Markets}); err != nil {
			return err
		}
		// The work message leaves through the outbox: a committed design is
		// always enqueued, even if this process dies now.
		return enqueueTx(ctx, tx, TopicDesignSubmitted, nd.ID, mustertype.DesignSubmitted{DesignID: nd.ID, TenantID: nd.TenantID})
	})
	if err == nil {
		return d, true, nil
	}
	if notFound(err) != ErrNotFound {
		return Design{}, false, fmt.Errorf("insert design: %w", err)
	}
	// A conflict: find the design it conflicted with.
	if idem != nil {
		d, err = scanDesign(s.pool.QueryRow(ctx, `SELECT `+designCols+` FROM designs WHERE tenant_id = $1 AND idempotency_key = $2`, nd.TenantID, *idem))
		if err == nil {
			if subKey == nil || d.submissionKey != *subKey {
				return Design{}, false, fmt.Errorf("idempotency key %q was used for a different submission: %w", *idem, ErrConflict)
			}
			return d, false, nil
		}
		if notFound(err) != ErrNotFound {
			return Design{}, false, fmt.Errorf("find design by idempotency key: %w", err)
		}
	}
	if subKey != nil {
		d, err = scanDesign(s.pool.QueryRow(ctx, `SELECT `+designCols+` FROM designs WHERE tenant_id = $1 AND submission_key = $2`, nd.TenantID, *subKey))
		if err == nil {
			return d, false, nil
		}
		if quota == nil || notFound(err) != ErrNotFound {
			return Design{}, false, fmt.Errorf("find duplicate design: %w", notFound(err))
		}
	}
	if quota != nil {
		return Design{}, false, quota
	}
	return Design{}, false, fmt.Errorf("insert design %s: conflict on id: %w", nd.ID, ErrConflict)
}

// Design returns a tenant's design. Another tenant's design is ErrNotFound.
func (s *Store) Design(ctx context.Context, tenantID, id string) (Design, error) {
	d, err := scanDesign(s.pool.QueryRow(ctx, `SELECT `+designCols+` FROM designs WHERE id::text = $1 AND tenant_id = $2`, id, tenantID))
	if err != nil {
		return Design{}, fmt.Errorf("design %s: %w", id, notFound(err))
	}
	return d, nil
}

// DesignByID returns a design regardless of tenant (workers only).
func (s *Store) DesignByID(ctx context.Context, id string) (Design, error) {
	d, err := scanDesign(s.pool.QueryRow(ctx, `SELECT `+designCols+` FROM designs WHERE id::text = $1`, id))
	if err != nil {
		return Design{}, fmt.Errorf("design %s: %w", id, notFound(err))
	}
	return d, nil
}

// Designs lists a tenant's designs, newest first.
func (s *Store) Designs(ctx context.Context, tenantID, status string, limit int) ([]Design, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+designCols+` FROM designs WHERE tenant_id = $1 AND ($2 = '' OR status = $2)
		ORDER BY created_at DESC LIMIT $3`, tenantID, status, limit)
	if err != nil {
		return nil, fmt.Errorf("list designs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Design, error) { return scanDesign(r) })
}

// StartAnalysis marks a design as being analysed and counts the analysis
// attempt (Design.Attempts: analyses started, this one included; failures
// of infrastructure before the analysis starts are not counted). It
// returns the design; a design already decided or failed is returned
// unchanged so the caller can acknowledge without work.
func (s *Store) StartAnalysis(ctx context.Context, id string) (Design, error) {
	d, err := scanDesign(s.pool.QueryRow(ctx, `UPDATE designs SET status = CASE WHEN status IN ('queued','analyzing') THEN 'analyzing' ELSE status END,
		attempts = CASE WHEN status IN ('queued','analyzing') THEN attempts + 1 ELSE attempts END,
		started_at = CASE WHEN status IN ('queued','analyzing') THEN now() ELSE started_at END, updated_at = now()
		WHERE id = $1 RETURNING `+designCols, id))
	if err != nil {
		return Design{}, fmt.Errorf("start analysis of %s: %w", id, notFound(err))
	}
	return d, nil
}

// RecordResult stores analyses, findings and the verdict of a design and
// marks it decided, in one transaction. If the design was already decided
// (a redelivery after the commit), nothing is written and the existing
// verdict is returned with recorded=false.
func (s *Store) RecordResult(ctx context.Context, designID string, analyses []Analysis, findings []mustertype.Finding, dec mustertype.Decision, versions map[string]string) (v Verdict, recorded bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var status, tenant string
		var markets []string
		var designAt time.Time
		if err := tx.QueryRow(ctx, `SELECT status, tenant_id, markets, created_at FROM designs WHERE id = $1 FOR UPDATE`, designID).Scan(&status, &tenant, &markets, &designAt); err != nil {
			return notFound(err)
		}
		if status == StatusDecided || status == StatusFailed {
			return nil
		}
		recorded = true
		if _, err := tx.Exec(ctx, `DELETE FROM findings WHERE design_id = $1`, designID); err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, a := range analyses {
			batch.Queue(`INSERT INTO analyses (design_id, analyzer, version, result, duration_ms) VALUES ($1,$2,$3,$4,$5)
				ON CONFLICT (design_id, analyzer) DO UPDATE SET version = EXCLUDED.version, result = EXCLUDED.result,
				duration_ms = EXCLUDED.duration_ms, created_at = now()`, designID, a.Analyzer, a.Version, a.Result, a.DurationMS)
		}
		for _, f := range findings {
			attrs := f.Attrs
			batch.Queue(`INSERT INTO findings (design_id, analyzer, type, bank, entry_id, label, score, distance, box, attrs)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, designID, f.Analyzer, f.Type, f.Bank, f.EntryID, f.Label, f.Score, f.Distance, f.Box, attrs)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		v = Verdict{DesignID: designID, TenantID: tenant, Outcome: dec.Outcome(), PolicyVersion: dec.PolicyVersion, Decision: dec, Versions: versions, Cause: mustertype.CauseAnalysis}
		if err := tx.QueryRow(ctx, `INSERT INTO verdicts (design_id, tenant_id, outcome, policy_version, decision, versions, cause)
			VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id, created_at`, designID, tenant, v.Outcome, v.PolicyVersion, dec, versions, v.Cause).
			Scan(&v.ID, &v.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE designs SET status = 'decided', failure_reason = NULL, decided_at = now(), updated_at = now() WHERE id = $1`, designID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO events (tenant_id, design_id, type, data) VALUES ($1, $2, 'verdict.recorded', $3)`,
			tenant, designID, map[string]any{"verdict_id": v.ID, "outcome": v.Outcome, "policy_version": v.PolicyVersion}); err != nil {
			return err
		}
		if err := enqueueVerdictEventTx(ctx, tx, mustertype.VerdictEvent{Type: mustertype.EventVerdictRecorded, TenantID: tenant, DesignID: designID, VerdictID: v.ID, Outcome: v.Outcome}); err != nil {
			return err
		}
		if s.hook == nil {
			return nil
		}
		if findings == nil {
			findings = []mustertype.Finding{}
		}
		return s.hook(ctx, s, tx, RecordedVerdict{Verdict: v, Findings: findings, findingsSet: true, Markets: markets, DesignCreatedAt: designAt})
	})
	if err != nil {
		return Verdict{}, false, fmt.Errorf("record result of design %s: %w", designID, err)
	}
	if !recorded {
		v, err = s.LatestVerdict(ctx, designID)
		if err == ErrNotFound {
			err = nil // failed designs have no verdict
		}
	}
	return v, recorded, err
}

// RecordFailure stores an analysis failure reason for an attempt that will
// be retried (status stays analyzing).
func (s *Store) RecordFailure(ctx context.Context, designID string, attempt int, reason string) error {
	_, err := s.pool.Exec(ctx, `WITH d AS (UPDATE designs SET failure_reason = $3, updated_at = now() WHERE id = $1 AND status IN ('queued','analyzing') RETURNING tenant_id)
		INSERT INTO events (tenant_id, design_id, type, data) SELECT tenant_id, $1, 'analysis.attempt_failed', jsonb_build_object('attempt', $2::int, 'reason', $3::text) FROM d`,
		designID, attempt, reason)
	if err != nil {
		return fmt.Errorf("record failure of design %s: %w", designID, err)
	}
	return nil
}

// MarkFailed marks a design failed for good (dead-lettered) with a reason,
// and enqueues its design.failed event in the same transaction. It returns
// false when the design was already decided or failed.
func (s *Store) MarkFailed(ctx context.Context, designID, reason string) (bool, error) {
	changed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var tenant string
		err := tx.QueryRow(ctx, `WITH d AS (UPDATE designs SET status = 'failed', failure_reason = $2, updated_at = now()
			WHERE id = $1 AND status IN ('queued','analyzing') RETURNING tenant_id)
			INSERT INTO events (tenant_id, design_id, type, data) SELECT tenant_id, $1, 'design.failed', jsonb_build_object('reason', $2::text) FROM d
			RETURNING tenant_id`, designID, reason).Scan(&tenant)
		if notFound(err) == ErrNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		return enqueueVerdictEventTx(ctx, tx, mustertype.VerdictEvent{Type: mustertype.EventDesignFailed, TenantID: tenant, DesignID: designID, Reason: reason})
	})
	if err != nil {
		return false, fmt.Errorf("mark design %s failed: %w", designID, err)
	}
	return changed, nil
}

// LatestVerdict returns the newest verdict of a design.
func (s *Store) LatestVerdict(ctx context.Context, designID string) (Verdict, error) {
	v, err := scanVerdict(s.pool.QueryRow(ctx, `SELECT `+verdictCols+` FROM verdicts WHERE design_id = $1 ORDER BY id DESC LIMIT 1`, designID))
	if err != nil {
		return Verdict{}, notFound(err)
	}
	return v, nil
}

// Findings returns a design's findings.
func (s *Store) Findings(ctx context.Context, designID string) ([]mustertype.Finding, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+findingCols+` FROM findings WHERE design_id = $1 ORDER BY id`, designID)
	if err != nil {
		return nil, fmt.Errorf("findings of %s: %w", designID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (mustertype.Finding, error) { return scanFinding(r) })
}

// findingCols are the columns scanFinding reads, in its order.
const findingCols = `analyzer, type, bank, entry_id, label, score, distance, box, attrs`

// scanFinding is the one way a stored finding is read back. Extra leading
// destinations (e.g. the design id) are scanned before the finding's
// columns.
func scanFinding(r pgx.Row, lead ...any) (mustertype.Finding, error) {
	var f mustertype.Finding
	err := r.Scan(append(lead, &f.Analyzer, &f.Type, &f.Bank, &f.EntryID, &f.Label, &f.Score, &f.Distance, &f.Box, &f.Attrs)...)
	return f, err
}

// Analyses returns a design's stored analyses.
func (s *Store) Analyses(ctx context.Context, designID string) ([]Analysis, error) {
	rows, err := s.pool.Query(ctx, `SELECT analyzer, version, result, duration_ms FROM analyses WHERE design_id = $1 ORDER BY analyzer`, designID)
	if err != nil {
		return nil, fmt.Errorf("analyses of %s: %w", designID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Analysis, error) {
		var a Analysis
		err := r.Scan(&a.Analyzer, &a.Version, &a.Result, &a.DurationMS)
		return a, err
	})
}

// Event is one row of the append-only event log.
type Event struct {
	ID        int64           `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// Events returns a design's event log.
func (s *Store) Events(ctx context.Context, designID string) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, type, actor, data, created_at FROM events WHERE design_id = $1 ORDER BY id`, designID)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", designID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		err := r.Scan(&e.ID, &e.Type, &e.Actor, &e.Data, &e.CreatedAt)
		return e, err
	})
}

// AppendEvent adds an event.
func (s *Store) AppendEvent(ctx context.Context, tenantID, designID, typ, actor string, data any) error {
	var d *string
	if designID != "" {
		d = &designID
	}
	_, err := s.pool.Exec(ctx, appendEventSQL, tenantID, d, typ, actor, data)
	if err != nil {
		return fmt.Errorf("append event %s: %w", typ, err)
	}
	return nil
}

// WaitingByTenant counts the designs of each tenant that wait for a verdict
// (queued or analysing).
func (s *Store) WaitingByTenant(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT tenant_id::text, count(*) FROM designs WHERE status IN ('queued', 'analyzing') GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("waiting designs: %w", err)
	}
	out := map[string]int{}
	var t string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&t, &n}, func() error { out[t] = n; return nil }); err != nil {
		return nil, fmt.Errorf("waiting designs: %w", err)
	}
	return out, nil
}

// StaleDesigns returns up to limit designs still queued or analysing whose
// last update is older than age, and bumps their update time so concurrent
// sweepers do not pick the same ones.
func (s *Store) StaleDesigns(ctx context.Context, age time.Duration, limit int) ([]Design, error) {
	rows, err := s.pool.Query(ctx, `UPDATE designs SET updated_at = now() WHERE id IN (
			SELECT id FROM designs WHERE status IN ('queued', 'analyzing') AND updated_at < now() - make_interval(secs => $1)
			ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+designCols, age.Seconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("stale designs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Design, error) { return scanDesign(r) })
}
