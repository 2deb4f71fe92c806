package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
)

// Verdict is a recorded verdict.
type Verdict = mustertype.Verdict

// Analysis is one stored analyzer result.
type Analysis = mustertype.Analysis

// InTx runs fn in one transaction; packages that own tables next to the
// store's (review items recorded with a verdict) write through the same tx.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// RecordVerdict records a verdict made after analysis (a re-decision or a
// human decision) and its event, in one transaction.
func (s *Store) RecordVerdict(ctx context.Context, nv mustertype.NewVerdict) (Verdict, error) {
	var v Verdict
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = s.RecordVerdictTx(ctx, tx, nv)
		return err
	})
	return v, err
}

// VerdictHook runs inside the transaction that records a verdict, after the
// verdict row and its event are written (see WithVerdictHook). It is
// declared here so the store calls its owner (the review package) without
// importing it.
//
// st is the store recording the verdict: the hook appends events through
// it (AppendEventTx), the store staying the only writer of events.
type VerdictHook func(ctx context.Context, st *Store, tx pgx.Tx, rv RecordedVerdict) error

// RecordedVerdict is what a VerdictHook is told about a verdict.
type RecordedVerdict struct {
	// Verdict is the verdict recorded (its ID set). When Held, it is the
	// re-decision that was NOT recorded (ID 0).
	Verdict Verdict
	// Previous is the design's latest verdict before this one (nil: none).
	Previous *Verdict
	// Findings are the design's findings (the input the verdict decided
	// on) when the recorder had them in hand (RecordResult); otherwise nil
	// until asked for: use DesignFindings, which reads them only then (a
	// hook that ignores a verdict costs no read).
	Findings []mustertype.Finding
	// findingsSet is true when Findings holds the design's findings.
	findingsSet bool
	// Markets are the design's markets.
	Markets []string
	// DesignCreatedAt is when the design was submitted.
	DesignCreatedAt time.Time
	// Held is true when a re-decision met a design whose latest verdict is a
	// human decision: the human verdict stands and nothing was written; the
	// hook may open a review item when the proposal differs from it.
	Held bool
}

// DesignFindings returns the design's findings: Findings when the
// recorder passed them, otherwise read inside tx.
func (rv RecordedVerdict) DesignFindings(ctx context.Context, tx pgx.Tx) ([]mustertype.Finding, error) {
	if rv.findingsSet {
		return rv.Findings, nil
	}
	return findingsTx(ctx, tx, rv.Verdict.DesignID)
}

// HumanDecision reports whether v was made by a person (a reviewer's
// decision) rather than by the automated pipeline or a re-decision.
func HumanDecision(v Verdict) bool { return v.Cause == mustertype.CauseReview }

const verdictCols = `id, design_id, tenant_id, outcome, policy_version, decision, versions, cause, coalesce(actor, ''), created_at`

func scanVerdict(r pgx.Row) (Verdict, error) {
	var v Verdict
	err := r.Scan(&v.ID, &v.DesignID, &v.TenantID, &v.Outcome, &v.PolicyVersion, &v.Decision, &v.Versions, &v.Cause, &v.Actor, &v.CreatedAt)
	return v, err
}

// RecordVerdictTx is RecordVerdict inside the caller's transaction. The
// design row is locked so concurrent decisions on one design are ordered.
//
// A human decision is never overridden by a re-decision: when nv.Cause is
// CauseRedecide and the design's latest verdict is a reviewer's
// (HumanDecision), nothing is written, the verdict hook is told (Held) and
// the human verdict is returned unchanged.
func (s *Store) RecordVerdictTx(ctx context.Context, tx pgx.Tx, nv mustertype.NewVerdict) (Verdict, error) {
	if nv.Cause == "" || nv.Event == "" {
		return Verdict{}, fmt.Errorf("record verdict of design %s: cause and event are required", nv.DesignID)
	}
	// One round trip: lock the design row and read its latest verdict.
	var tenant, status string
	var markets []string
	var designAt time.Time
	var pv Verdict
	var pvID *int64
	var pvDesign, pvTenant, pvOutcome, pvPolicy, pvCause, pvActor *string
	var pvAt *time.Time
	var pvDecision *mustertype.Decision
	var pvVersions map[string]string
	if err := tx.QueryRow(ctx, `SELECT d.tenant_id, d.status, d.markets, d.created_at,
			v.id, v.design_id, v.tenant_id, v.outcome, v.policy_version, v.decision, v.versions, v.cause, coalesce(v.actor, ''), v.created_at
		FROM designs d LEFT JOIN LATERAL (SELECT * FROM verdicts WHERE design_id = d.id ORDER BY id DESC LIMIT 1) v ON true
		WHERE d.id = $1 FOR UPDATE OF d`, nv.DesignID).Scan(&tenant, &status, &markets, &designAt,
		&pvID, &pvDesign, &pvTenant, &pvOutcome, &pvPolicy, &pvDecision, &pvVersions, &pvCause, &pvActor, &pvAt); err != nil {
		return Verdict{}, fmt.Errorf("record verdict of design %s: %w", nv.DesignID, notFound(err))
	}
	var prev *Verdict
	if pvID != nil {
		pv.ID, pv.DesignID, pv.TenantID, pv.Outcome, pv.PolicyVersion, pv.Cause, pv.Actor, pv.CreatedAt = *pvID, *pvDesign, *pvTenant, *pvOutcome, *pvPolicy, *pvCause, *pvActor, *pvAt
		pv.Versions = pvVersions
		if pvDecision != nil {
			pv.Decision = *pvDecision
		}
		prev = &pv
	}
	previous := ""
	var prevDecision mustertype.Decision
	if prev != nil {
		previous, prevDecision = prev.Outcome, prev.Decision
	}
	v := Verdict{DesignID: nv.DesignID, TenantID: tenant, Outcome: nv.Decision.Outcome(), PolicyVersion: nv.Decision.PolicyVersion,
		Decision: nv.Decision, Versions: nv.Versions, Cause: nv.Cause, Actor: nv.Actor}
	if v.Versions == nil {
		v.Versions = map[string]string{}
	}
	if nv.Cause == mustertype.CauseRedecide && prev != nil && HumanDecision(*prev) {
		if s.hook != nil {
			if err := s.hook(ctx, s, tx, RecordedVerdict{Verdict: v, Previous: prev, Markets: markets, DesignCreatedAt: designAt, Held: true}); err != nil {
				return Verdict{}, fmt.Errorf("record verdict of design %s: hook: %w", nv.DesignID, err)
			}
		}
		return *prev, nil
	}
	var actor *string
	if nv.Actor != "" {
		actor = &nv.Actor
	}
	if err := tx.QueryRow(ctx, `INSERT INTO verdicts (design_id, tenant_id, outcome, policy_version, decision, versions, cause, actor)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id, created_at`, v.DesignID, tenant, v.Outcome, v.PolicyVersion, v.Decision, v.Versions, v.Cause, actor).
		Scan(&v.ID, &v.CreatedAt); err != nil {
		return Verdict{}, fmt.Errorf("record verdict of design %s: %w", nv.DesignID, err)
	}
	data := map[string]any{}
	maps.Copy(data, nv.EventData)
	data["verdict_id"], data["outcome"], data["previous"], data["policy_version"], data["cause"] = v.ID, v.Outcome, previous, v.PolicyVersion, v.Cause
	if _, err := tx.Exec(ctx, appendEventSQL,
		tenant, nv.DesignID, nv.Event, nv.Actor, data); err != nil {
		return Verdict{}, fmt.Errorf("record verdict of design %s: event: %w", nv.DesignID, err)
	}
	if s.hook != nil {
		if err := s.hook(ctx, s, tx, RecordedVerdict{Verdict: v, Previous: prev, Markets: markets, DesignCreatedAt: designAt}); err != nil {
			return Verdict{}, fmt.Errorf("record verdict of design %s: hook: %w", nv.DesignID, err)
		}
	}
	// A verdict that changes any market's outcome is announced (waiters,
	// webhooks) through the outbox, committed with the verdict.
	if MarketsChanged(prevDecision, v.Decision) {
		if err := enqueueVerdictEventTx(ctx, tx, mustertype.VerdictEvent{Type: mustertype.EventVerdictChanged, TenantID: tenant, DesignID: nv.DesignID, VerdictID: v.ID, Outcome: v.Outcome}); err != nil {
			return Verdict{}, fmt.Errorf("record verdict of design %s: %w", nv.DesignID, err)
		}
	}
	return v, nil
}

// LatestVerdictTx is LatestVerdict inside the caller's transaction.
func (s *Store) LatestVerdictTx(ctx context.Context, tx pgx.Tx, designID string) (Verdict, error) {
	v, err := scanVerdict(tx.QueryRow(ctx, `SELECT `+verdictCols+` FROM verdicts WHERE design_id = $1 ORDER BY id DESC LIMIT 1`, designID))
	if err != nil {
		return Verdict{}, notFound(err)
	}
	return v, nil
}

// VerdictByID returns one verdict of a design.
func (s *Store) VerdictByID(ctx context.Context, designID string, id int64) (Verdict, error) {
	v, err := scanVerdict(s.pool.QueryRow(ctx, `SELECT `+verdictCols+` FROM verdicts WHERE design_id = $1 AND id = $2`, designID, id))
	if err != nil {
		return Verdict{}, notFound(err)
	}
	return v, nil
}

// Verdicts returns every verdict of a design, oldest first.
func (s *Store) Verdicts(ctx context.Context, designID string) ([]Verdict, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+verdictCols+` FROM verdicts WHERE design_id = $1 ORDER BY id`, designID)
	if err != nil {
		return nil, fmt.Errorf("verdicts of %s: %w", designID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Verdict, error) { return scanVerdict(r) })
}

// appendEventSQL records one event through events_append (migration
// 0016), the one SQL definition of an event row, shared with the
// statements that record an event together with their change (the review
// claim).
const appendEventSQL = `SELECT events_append($1, $2, $3, $4, $5)`

// AppendEventTx adds an event inside the caller's transaction (a review
// action recorded with the rows it changed).
func (s *Store) AppendEventTx(ctx context.Context, tx pgx.Tx, tenantID, designID, typ, actor string, data any) error {
	var d *string
	if designID != "" {
		d = &designID
	}
	if _, err := tx.Exec(ctx, appendEventSQL, tenantID, d, typ, actor, data); err != nil {
		return fmt.Errorf("append event %s: %w", typ, err)
	}
	return nil
}

func findingsTx(ctx context.Context, tx pgx.Tx, designID string) ([]mustertype.Finding, error) {
	rows, err := tx.Query(ctx, `SELECT `+findingCols+` FROM findings WHERE design_id = $1 ORDER BY id`, designID)
	if err != nil {
		return nil, fmt.Errorf("findings of %s: %w", designID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (mustertype.Finding, error) { return scanFinding(r) })
}

// MarketsChanged reports whether any market's outcome differs between two
// decisions (a market present on one side only counts as changed).
func MarketsChanged(before, after mustertype.Decision) bool {
	was := map[string]string{}
	for _, m := range before.Markets {
		was[m.Market] = m.Outcome
	}
	if len(before.Markets) != len(after.Markets) {
		return true
	}
	for _, m := range after.Markets {
		if o, ok := was[m.Market]; !ok || o != m.Outcome {
			return true
		}
	}
	return false
}

// StoredDesigns reads up to limit decided designs created at or after since,
// after the keyset cursor (afterAt, afterID), with their analyses and
// findings read through the same scan as everywhere else, so a new finding
// field reaches backtests and re-decisions. No model is re-run.
func (s *Store) StoredDesigns(ctx context.Context, since, afterAt time.Time, afterID string, limit int) ([]mustertype.StoredDesign, error) {
	if afterID == "" {
		afterID = "00000000-0000-0000-0000-000000000000"
	}
	rows, err := s.pool.Query(ctx, `
		SELECT d.id::text, d.tenant_id::text, d.product, d.markets, d.title, d.tags, d.description, d.created_at
		FROM designs d
		WHERE d.status = 'decided' AND d.created_at >= $1 AND (d.created_at, d.id) > ($2, $3::uuid)
		ORDER BY d.created_at, d.id
		LIMIT $4`, since, afterAt, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("stored designs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mustertype.StoredDesign, error) {
		var sd mustertype.StoredDesign
		in := &sd.Input
		err := r.Scan(&in.DesignID, &in.TenantID, &in.Product, &in.Markets, &in.Title, &in.Tags, &in.Description, &sd.CreatedAt)
		return sd, err
	})
	if err != nil {
		return nil, fmt.Errorf("stored designs: %w", err)
	}
	return s.fillStored(ctx, out)
}

// fillStored reads the analyses and findings of the designs in out.
func (s *Store) fillStored(ctx context.Context, out []mustertype.StoredDesign) ([]mustertype.StoredDesign, error) {
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	idx := make(map[string]int, len(out))
	for i, sd := range out {
		ids[i], idx[sd.Input.DesignID] = sd.Input.DesignID, i
		out[i].Input.Analyses = map[string]json.RawMessage{}
		out[i].Input.Findings = []mustertype.Finding{}
	}
	arows, err := s.pool.Query(ctx, `SELECT design_id::text, analyzer, result FROM analyses WHERE design_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("stored designs: analyses: %w", err)
	}
	var id, analyzer string
	var result json.RawMessage
	if _, err := pgx.ForEachRow(arows, []any{&id, &analyzer, &result}, func() error {
		out[idx[id]].Input.Analyses[analyzer] = append(json.RawMessage(nil), result...)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("stored designs: analyses: %w", err)
	}
	frows, err := s.pool.Query(ctx, `SELECT design_id::text, `+findingCols+` FROM findings WHERE design_id = ANY($1::uuid[]) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("stored designs: findings: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var did string
		f, err := scanFinding(frows, &did)
		if err != nil {
			return nil, fmt.Errorf("stored designs: findings: %w", err)
		}
		out[idx[did]].Input.Findings = append(out[idx[did]].Input.Findings, f)
	}
	return out, frows.Err()
}

// CountStoredDesigns counts decided designs created at or after since.
func (s *Store) CountStoredDesigns(ctx context.Context, since time.Time) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM designs WHERE status = 'decided' AND created_at >= $1`, since).Scan(&n); err != nil {
		return 0, fmt.Errorf("count stored designs: %w", err)
	}
	return n, nil
}
