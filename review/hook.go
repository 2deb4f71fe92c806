package review

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

// NewHook returns the store's verdict hook (store.WithVerdictHook). Inside
// the transaction that records a verdict it
//
//   - closes the design's open flagged, QA and re-decision items a newer
//     automated verdict supersedes;
//   - opens a flagged item, routed by the rules that asked for review, when
//     any market is in review;
//   - otherwise samples automated allows and blocks into the QA queue at
//     cfg.QARate (by a hash of the design id: reproducible, auditable);
//   - for a re-decision held back by a human decision, opens a re-decision
//     item when the new policy disagrees with the human.
//
// Reviewers' own verdicts (cause review) are handled by the Service.
func NewHook(cfg Config) store.VerdictHook {
	cfg = cfg.WithDefaults()
	return func(ctx context.Context, st *store.Store, tx pgx.Tx, rv store.RecordedVerdict) error {
		v := rv.Verdict
		if rv.Held {
			return openRedecide(ctx, st, tx, rv)
		}
		if v.Cause == mustertype.CauseReview {
			return nil
		}
		if rv.Previous != nil {
			if err := closeOpen(ctx, st, tx, v.TenantID, v.DesignID, "system", fmt.Sprintf("superseded by verdict %d", v.ID), KindFlagged, KindQA, KindRedecide); err != nil {
				return err
			}
		}
		inReview := slices.ContainsFunc(v.Decision.Markets, func(m mustertype.MarketVerdict) bool { return m.Outcome == mustertype.Review })
		qa := !inReview && v.Cause == mustertype.CauseAnalysis && sampled(v.DesignID, cfg.QARate)
		if !inReview && !qa {
			return nil
		}
		fs, err := rv.DesignFindings(ctx, tx)
		if err != nil {
			return fmt.Errorf("review: findings: %w", err)
		}
		if inReview {
			w, _ := whyReview(v.Decision, fs)
			return openItem(ctx, st, tx, newItem{kind: KindFlagged, v: v, why: w, findings: relied(v.Decision, fs, mustertype.Review)})
		}
		w := whyAll(v.Decision, fs)
		return openItem(ctx, st, tx, newItem{kind: KindQA, queue: QueueQA, v: v, why: w, findings: relied(v.Decision, fs, "")})
	}
}

// sampled reports whether a design falls in the QA sample: the first 64
// bits of sha256("qa:"+id) as a fraction of 2^64, below rate.
func sampled(designID string, rate float64) bool {
	if rate <= 0 {
		return false
	}
	if rate >= 1 {
		return true
	}
	sum := sha256.Sum256([]byte("qa:" + designID))
	return float64(binary.BigEndian.Uint64(sum[:8])) < rate*math.Exp2(64)
}

// whyReview collects the codes, rules and finding types of the reasons
// with a review outcome, and the markets in review.
func whyReview(d mustertype.Decision, fs []mustertype.Finding) (why, []string) {
	var w why
	var markets []string
	for _, m := range d.Markets {
		if m.Outcome != mustertype.Review {
			continue
		}
		markets = append(markets, m.Market)
		for _, r := range m.Reasons {
			if r.Outcome == mustertype.Review {
				w.add(r, fs)
			}
		}
	}
	return w, markets
}

// whyAll collects every reason that decided (allow reasons with a rule, and
// blocks): what a QA sample checks.
func whyAll(d mustertype.Decision, fs []mustertype.Finding) why {
	var w why
	for _, m := range d.Markets {
		for _, r := range m.Reasons {
			w.add(r, fs)
		}
	}
	return w
}

func (w *why) add(r mustertype.Reason, fs []mustertype.Finding) {
	addUnique := func(l []string, s string) []string {
		if s == "" || slices.Contains(l, s) {
			return l
		}
		return append(l, s)
	}
	w.codes = addUnique(w.codes, r.Code)
	w.rules = addUnique(w.rules, r.Rule)
	for _, i := range r.Findings {
		if i >= 0 && i < len(fs) {
			w.findingTypes = addUnique(w.findingTypes, fs[i].Type)
		}
	}
}

// relied returns the findings the reasons with outcome (any when "")
// relied on, or every finding when they name none.
func relied(d mustertype.Decision, fs []mustertype.Finding, outcome string) []mustertype.Finding {
	seen := map[int]bool{}
	var out []mustertype.Finding
	for _, m := range d.Markets {
		for _, r := range m.Reasons {
			if outcome != "" && r.Outcome != outcome {
				continue
			}
			for _, i := range r.Findings {
				if i >= 0 && i < len(fs) && !seen[i] {
					seen[i] = true
					out = append(out, fs[i])
				}
			}
		}
	}
	if len(out) == 0 {
		out = slices.Clone(fs)
	}
	if out == nil {
		out = []mustertype.Finding{}
	}
	return out
}

func outcomes(d mustertype.Decision) map[string]string {
	m := make(map[string]string, len(d.Markets))
	for _, mv := range d.Markets {
		m[mv.Market] = mv.Outcome
	}
	return m
}

// newItem is an item to open.
type newItem struct {
	kind string
	// queue: "" routes by why.
	queue    string
	v        store.Verdict
	why      why
	findings []mustertype.Finding
	proposed map[string]string
	appealID int64
	excluded []string
	priority int
	actor    string
}

// openItem inserts an item (unless the design already has an open item of
// the kind), its event and its audit row, inside tx. It returns the id (0:
// not opened).
func openItem(ctx context.Context, st *store.Store, tx pgx.Tx, n newItem) error {
	_, err := openItemID(ctx, st, tx, n)
	return err
}

func openItemID(ctx context.Context, st *store.Store, tx pgx.Tx, n newItem) (int64, error) {
	q, prio := n.queue, n.priority
	if q == "" {
		routes, err := loadRoutes(ctx, tx)
		if err != nil {
			return 0, err
		}
		var def string
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT name FROM review_queues WHERE is_default), 'general')`).Scan(&def); err != nil {
			return 0, fmt.Errorf("review: default queue: %w", err)
		}
		var p int
		q, p = route(routes, n.why, def)
		prio += p
	}
	if n.actor == "" {
		n.actor = "system"
	}
	var appeal *int64
	if n.appealID != 0 {
		appeal = &n.appealID
	}
	nz := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO review_items (tenant_id, design_id, kind, queue, priority, verdict_id, policy_version, codes, rules, findings,
			automated, proposed, appeal_id, excluded)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT DO NOTHING RETURNING id`,
		n.v.TenantID, n.v.DesignID, n.kind, q, prio, n.v.ID, n.v.PolicyVersion, nz(n.why.codes), nz(n.why.rules), n.findings,
		outcomes(n.v.Decision), n.proposed, appeal, nz(n.excluded)).Scan(&id)
	if err == pgx.ErrNoRows {
		return 0, nil // the design already has one open
	}
	if err != nil {
		return 0, fmt.Errorf("review: open %s item for design %s: %w", n.kind, n.v.DesignID, err)
	}
	data := map[string]any{"item_id": id, "kind": n.kind, "queue": q, "codes": nz(n.why.codes), "verdict_id": n.v.ID}
	if err := st.AppendEventTx(ctx, tx, n.v.TenantID, n.v.DesignID, "review.opened", n.actor, data); err != nil {
		return 0, err
	}
	return id, appendAudit(ctx, tx, auditRecord{Actor: n.actor, Action: ActionOpened, TenantID: n.v.TenantID, DesignID: n.v.DesignID, ItemID: id,
		Data: map[string]any{"kind": n.kind, "queue": q, "priority": prio, "codes": nz(n.why.codes), "rules": nz(n.why.rules), "verdict_id": n.v.ID, "automated": outcomes(n.v.Decision), "proposed": n.proposed}})
}

// closeOpenSQL closes a design's open items of some kinds ($1 design, $2
// kinds, $3 why) and returns their ids and kinds.
const closeOpenSQL = `UPDATE review_items SET state = 'closed', closed_reason = $3, lease_until = NULL
		WHERE design_id = $1 AND state = 'open' AND kind = ANY($2) RETURNING id, kind`

// closedItem is an item closeOpenSQL closed.
type closedItem struct {
	id   int64
	kind string
}

func scanClosed(r pgx.CollectableRow) (closedItem, error) {
	var c closedItem
	return c, r.Scan(&c.id, &c.kind)
}

// closeOpen closes a design's open items of the given kinds.
func closeOpen(ctx context.Context, st *store.Store, tx pgx.Tx, tenantID, designID, actor, why string, kinds ...string) error {
	rows, err := tx.Query(ctx, closeOpenSQL, designID, kinds, why)
	if err != nil {
		return fmt.Errorf("review: close items of design %s: %w", designID, err)
	}
	cs, err := pgx.CollectRows(rows, scanClosed)
	if err != nil {
		return fmt.Errorf("review: close items of design %s: %w", designID, err)
	}
	return recordClosed(ctx, st, tx, tenantID, designID, actor, why, cs)
}

// recordClosed records the event and audit row of each closed item.
func recordClosed(ctx context.Context, st *store.Store, tx pgx.Tx, tenantID, designID, actor, why string, cs []closedItem) error {
	for _, c := range cs {
		if err := st.AppendEventTx(ctx, tx, tenantID, designID, "review.closed", actor, map[string]any{"item_id": c.id, "kind": c.kind, "reason": why}); err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, auditRecord{Actor: actor, Action: ActionClosed, TenantID: tenantID, DesignID: designID, ItemID: c.id, Data: map[string]any{"kind": c.kind, "reason": why}}); err != nil {
			return err
		}
	}
	return nil
}

// openRedecide opens a re-decision item when a re-decision held back by a
// human verdict would change some market.
func openRedecide(ctx context.Context, st *store.Store, tx pgx.Tx, rv store.RecordedVerdict) error {
	human := *rv.Previous
	proposal := rv.Verdict
	changed := false
	hum := outcomes(human.Decision)
	for m, o := range outcomes(proposal.Decision) {
		if hum[m] != o {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	fs, err := rv.DesignFindings(ctx, tx)
	if err != nil {
		return fmt.Errorf("review: findings: %w", err)
	}
	w := whyAll(proposal.Decision, fs)
	// The item reviews the human verdict, under the proposal's policy
	// version (one item per design and version).
	v := human
	v.PolicyVersion = proposal.PolicyVersion
	return openItem(ctx, st, tx, newItem{kind: KindRedecide, v: v, why: w, findings: relied(proposal.Decision, fs, ""), proposed: outcomes(proposal.Decision)})
}
