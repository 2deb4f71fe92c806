package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/store"
)

// Decision is a reviewer's decision on an item.
type Decision struct {
	// Markets maps a market to allow or block. Markets left out keep their
	// current outcome; every market in review must be decided.
	Markets map[string]string `json:"markets"`
	// Reason is a code from Reasons(): a block reason when any market given
	// is blocked, an allow reason otherwise.
	Reason string `json:"reason"`
	// Note is a free internal note (kept with the item and in the audit log,
	// not sent to the merchant).
	Note string `json:"note"`
	// Appeal is uphold or overturn, for appeal items: overturn without
	// Markets allows every blocked market; uphold keeps the blocks (a
	// human's from now on).
	Appeal string `json:"appeal,omitempty"`
}

// Result is what a decision changed.
type Result struct {
	Item Item `json:"item"`
	// Verdict is the new verdict (nil when the decision confirmed the
	// automated outcome without restating any market: a QA agreement).
	Verdict *store.Verdict `json:"verdict,omitempty"`
	// Changed lists the markets whose outcome changed.
	Changed []string `json:"changed"`
	Appeal  *Appeal  `json:"appeal,omitempty"`
}

// HumanRule names the reason a human decision records in a market verdict.
const HumanRule = "human_review"

// Decide records the reviewer's decision on an item they hold a lease on:
// a new verdict through the store (cause review, the reviewer as actor),
// an event and an audit row in one transaction, with a verdict.changed
// notification (delivered by the webhook sender) when an outcome changed,
// and appeal.decided for appeals, written to the outbox in that same
// transaction (published by the relay, kicked after commit).
func (s *Service) Decide(ctx context.Context, r Reviewer, id int64, d Decision) (Result, error) {
	return s.decide(ctx, r, id, d, true)
}

func (s *Service) decide(ctx context.Context, r Reviewer, id int64, d Decision, lease bool) (Result, error) {
	var res Result
	var before Item
	now := time.Now()
	err := s.st.InTx(ctx, func(tx pgx.Tx) error {
		it, roles, err := lockItem(ctx, tx, r, id)
		if err != nil {
			return err
		}
		before = it
		res, err = s.decideTx(ctx, tx, r, it, roles, d, lease, now)
		return err
	})
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return Result{}, ie
		}
		return Result{}, fmt.Errorf("review: decide item %d: %w", id, err)
	}
	s.observeDecision(before, r.ID, now)
	if s.kick != nil && (res.Appeal != nil || (res.Verdict != nil && len(res.Changed) > 0)) {
		s.kick() // the outbox holds verdict.changed / appeal.decided: publish now
	}
	return res, nil
}

// EventAppealDecided is published on the design's verdict subject when an
// appeal is decided (reason: upheld or overturned); the webhook sender
// delivers it like a verdict event.
const EventAppealDecided = "appeal.decided"

func (s *Service) decideTx(ctx context.Context, tx pgx.Tx, r Reviewer, it Item, roles []string, d Decision, lease bool, now time.Time) (Result, error) {
	if lease {
		if err := holding(it, r, now); err != nil {
			return Result{}, err
		}
	} else {
		if it.State != StateOpen {
			return Result{}, fmt.Errorf("item %d is %s: %w", it.ID, it.State, ErrNotOpen)
		}
		if it.Leased(now) && it.ClaimedBy != r.ID {
			return Result{}, fmt.Errorf("item %d is claimed by another reviewer: %w", it.ID, ErrNotClaimed)
		}
	}
	if err := mayRoles(r, it.Queue, roles); err != nil {
		return Result{}, err
	}
	if slices.Contains(it.Excluded, r.ID) {
		return Result{}, ErrFourEyes
	}
	rc, ok := LookupReason(d.Reason)
	if !ok {
		return Result{}, inputErr("invalid_reason", "reason %q is not one of %s", d.Reason, reasonList())
	}
	if len(d.Note) > 10000 {
		return Result{}, inputErr("invalid_note", "a note is at most 10000 bytes")
	}
	cur, err := s.st.LatestVerdictTx(ctx, tx, it.DesignID)
	if err != nil {
		return Result{}, fmt.Errorf("latest verdict: %w", err)
	}
	curOut := outcomes(cur.Decision)
	set := map[string]string{}
	for m, o := range d.Markets {
		m = strings.ToUpper(strings.TrimSpace(m))
		if _, ok := curOut[m]; !ok {
			return Result{}, inputErr("invalid_markets", "market %q is not one of the design's markets (%s)", m, strings.Join(slices.Sorted(maps.Keys(curOut)), ", "))
		}
		if o != mustertype.Allow && o != mustertype.Block {
			return Result{}, inputErr("invalid_markets", "market %s: outcome must be allow or block, got %q", m, o)
		}
		set[m] = o
	}
	var ap *Appeal
	switch {
	case it.Kind == KindAppeal:
		if it.AppealID == nil {
			return Result{}, fmt.Errorf("appeal item %d has no appeal", it.ID)
		}
		a, err := lockAppeal(ctx, tx, *it.AppealID)
		if err != nil {
			return Result{}, err
		}
		ap = &a
		switch d.Appeal {
		case AppealOverturn:
			if len(set) == 0 {
				for m, o := range curOut {
					if o == mustertype.Block {
						set[m] = mustertype.Allow
					}
				}
			}
			if !slices.ContainsFunc(slices.Collect(maps.Keys(set)), func(m string) bool { return curOut[m] == mustertype.Block && set[m] == mustertype.Allow }) {
				return Result{}, inputErr("invalid_decision", "overturning allows at least one blocked market")
			}
		case AppealUphold:
			for m, o := range set {
				if curOut[m] == mustertype.Block && o == mustertype.Allow {
					return Result{}, inputErr("invalid_decision", "upholding the appeal keeps %s blocked; use appeal=overturn", m)
				}
			}
			for m, o := range curOut {
				if _, ok := set[m]; !ok && o == mustertype.Block {
					set[m] = mustertype.Block
				}
			}
		default:
			return Result{}, inputErr("invalid_decision", "an appeal is decided with appeal=uphold or appeal=overturn")
		}
	case d.Appeal != "":
		return Result{}, inputErr("invalid_decision", "appeal=%s is only for appeal items", d.Appeal)
	}
	// Every market still in review must be decided.
	var undecided []string
	for m, o := range curOut {
		if _, ok := set[m]; !ok && o == mustertype.Review {
			undecided = append(undecided, m)
		}
	}
	if len(undecided) > 0 {
		slices.Sort(undecided)
		return Result{}, inputErr("undecided_markets", "decide every market in review: %s", strings.Join(undecided, ", "))
	}
	if len(set) > 0 {
		blocks := slices.Contains(slices.Collect(maps.Values(set)), mustertype.Block)
		if blocks && rc.Outcome != mustertype.Block {
			return Result{}, inputErr("invalid_reason", "a decision that blocks needs a block reason (%s), got %s", reasonsFor(mustertype.Block), rc.Code)
		}
		if !blocks && rc.Outcome != mustertype.Allow {
			return Result{}, inputErr("invalid_reason", "a decision that only allows needs an allow reason (%s), got %s", reasonsFor(mustertype.Allow), rc.Code)
		}
	}

	final := maps.Clone(curOut)
	maps.Copy(final, set)
	var changed []string
	for m, o := range final {
		if curOut[m] != o {
			changed = append(changed, m)
		}
	}
	slices.Sort(changed)
	res := Result{Changed: changed}
	if res.Changed == nil {
		res.Changed = []string{}
	}
	if len(set) > 0 {
		dec := mustertype.Decision{PolicyVersion: cur.Decision.PolicyVersion}
		for _, mv := range cur.Decision.Markets {
			if o, ok := set[mv.Market]; ok {
				hm, err := humanMarket(mv, o, rc, it, cur.DesignID, cur.Decision.PolicyVersion)
				if err != nil {
					return Result{}, err
				}
				dec.Markets = append(dec.Markets, hm)
			} else {
				dec.Markets = append(dec.Markets, mv)
			}
		}
		versions := maps.Clone(cur.Versions)
		if versions == nil {
			versions = map[string]string{}
		}
		versions["review_item"] = strconv.FormatInt(it.ID, 10)
		v, err := s.st.RecordVerdictTx(ctx, tx, mustertype.NewVerdict{DesignID: it.DesignID, Decision: dec, Versions: versions,
			Cause: mustertype.CauseReview, Actor: r.ID, Event: "verdict.reviewed",
			EventData: map[string]any{"item_id": it.ID, "kind": it.Kind, "reason": rc.Code, "changed_markets": res.Changed}})
		if err != nil {
			return Result{}, err
		}
		res.Verdict = &v
	}
	var resultVerdict *int64
	if res.Verdict != nil {
		resultVerdict = &res.Verdict.ID
	}
	it.State, it.DecidedBy, it.DecidedAt, it.Decision, it.Reason, it.Note, it.ResultVerdictID, it.LeaseUntil = StateDecided, r.ID, &now, final, rc.Code, d.Note, resultVerdict, nil
	it.AgeSeconds = now.Sub(it.CreatedAt).Seconds()
	it.SLABreached = it.SLASeconds > 0 && it.AgeSeconds > float64(it.SLASeconds)
	var ap2 *Appeal
	if ap != nil {
		state := "upheld"
		if d.Appeal == AppealOverturn {
			state = "overturned"
		}
		if _, err := tx.Exec(ctx, `UPDATE review_appeals SET state = $2, decided_by = $3, decided_at = $4, reason = $5, result_verdict_id = $6 WHERE id = $1`,
			ap.ID, state, r.ID, now, rc.Code, resultVerdict); err != nil {
			return Result{}, err
		}
		ap.State, ap.DecidedBy, ap.DecidedAt, ap.Reason, ap.ResultVerdictID = state, r.ID, &now, rc.Code, resultVerdict
		if err := s.st.AppendEventTx(ctx, tx, it.TenantID, it.DesignID, EventAppealDecided, r.ID, map[string]any{"appeal_id": ap.ID, "result": state, "reason": rc.Code}); err != nil {
			return Result{}, err
		}
		// Announced through the outbox, committed with the decision (the
		// verdict's verdict.changed is enqueued by the store).
		vid := ap.VerdictID
		if ap.ResultVerdictID != nil {
			vid = *ap.ResultVerdictID
		}
		ev := mustertype.VerdictEvent{Type: EventAppealDecided, TenantID: it.TenantID, DesignID: it.DesignID, VerdictID: vid, Reason: ap.State}
		if res.Verdict != nil {
			ev.Outcome = res.Verdict.Outcome
		}
		if err := s.st.EnqueueVerdictEventTx(ctx, tx, ev); err != nil {
			return Result{}, err
		}
		ap2 = ap
	}
	res.Item = it
	res.Appeal = ap2
	audit := map[string]any{"kind": it.Kind, "queue": it.Queue, "markets": set, "final": final, "automated": it.Automated, "reason": rc.Code, "note": d.Note,
		"changed": res.Changed, "bulk": !lease}
	if res.Verdict != nil {
		audit["verdict_id"] = res.Verdict.ID
	}
	if ap != nil {
		audit["appeal_id"], audit["appeal"] = ap.ID, ap.State
	}
	if it.ClaimedAt != nil {
		audit["claim_to_decision_seconds"] = now.Sub(*it.ClaimedAt).Seconds()
	}
	auditData, err := json.Marshal(audit)
	if err != nil {
		return Result{}, fmt.Errorf("review: audit %s: %w", ActionDecided, err)
	}
	// One round trip for the rest: the item decided, the design's other
	// open items closed (their events and audit rows follow only when
	// there were any), the event of a decision without a verdict, the
	// audit row.
	b := &pgx.Batch{}
	b.Queue(`UPDATE review_items SET state = 'decided', decided_by = $2, decided_at = $3, decision = $4, reason = $5, note = $6,
		result_verdict_id = $7, lease_until = NULL WHERE id = $1`, it.ID, r.ID, now, final, rc.Code, d.Note, resultVerdict)
	var closed []closedItem
	closeWhy := fmt.Sprintf("superseded by the review decision on item %d", it.ID)
	if res.Verdict != nil {
		b.Queue(closeOpenSQL, it.DesignID, []string{KindFlagged, KindQA, KindRedecide}, closeWhy).Query(func(rows pgx.Rows) error {
			var err error
			closed, err = pgx.CollectRows(rows, scanClosed)
			return err
		})
	} else {
		b.Queue(`SELECT events_append($1, $2, 'review.decided', $3, $4)`, it.TenantID, it.DesignID, r.ID,
			map[string]any{"item_id": it.ID, "kind": it.Kind, "reason": rc.Code})
	}
	b.Queue(`SELECT review_audit_append($1, $2, NULLIF($3, '')::uuid, NULLIF($4, '')::uuid, $5, $6)`, r.ID, ActionDecided, it.TenantID, it.DesignID, it.ID, string(auditData))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Result{}, fmt.Errorf("review: record decision: %w", err)
	}
	return res, recordClosed(ctx, s.st, tx, it.TenantID, it.DesignID, r.ID, closeWhy, closed)
}

func reasonList() string {
	var out []string
	for _, r := range reasonCodes {
		out = append(out, r.Code)
	}
	return strings.Join(out, ", ")
}

func reasonsFor(outcome string) string {
	var out []string
	for _, r := range reasonCodes {
		if r.Outcome == outcome {
			out = append(out, r.Code)
		}
	}
	return strings.Join(out, ", ")
}

// humanMarket is a market verdict decided by a reviewer: one reason naming
// the human decision (with the automated outcome it replaces in Notes), and
// for a block in an EU market a statement of reasons saying so.
func humanMarket(prior mustertype.MarketVerdict, outcome string, rc ReasonCode, it Item, designID, policyVersion string) (mustertype.MarketVerdict, error) {
	var priorCodes []string
	for _, r := range prior.Reasons {
		if r.Code != "" && !slices.Contains(priorCodes, r.Code) {
			priorCodes = append(priorCodes, r.Code)
		}
	}
	reason := mustertype.Reason{Rule: HumanRule, Code: rc.Code, Outcome: outcome, Message: "Decided by a human reviewer: " + rc.Title,
		Notes: fmt.Sprintf("review item %d (%s); automated outcome %s (%s)", it.ID, it.Kind, prior.Outcome, strings.Join(priorCodes, ", "))}
	if rc.Ground != nil && outcome == mustertype.Block {
		g := *rc.Ground
		reason.Ground, reason.Legal = g.String(), &g
	}
	mv := mustertype.MarketVerdict{Market: prior.Market, Outcome: outcome, Reasons: []mustertype.Reason{reason}}
	if outcome == mustertype.Block && (prior.Market == catalog.EU || catalog.IsEUMember(prior.Market)) {
		sor, err := humanStatement(prior, rc, it, designID, policyVersion, priorCodes)
		if err != nil {
			return mv, err
		}
		mv.StatementOfReasons = sor
	}
	return mv, nil
}

func humanStatement(prior mustertype.MarketVerdict, rc ReasonCode, it Item, designID, policyVersion string, priorCodes []string) (json.RawMessage, error) {
	s := mustertype.StatementOfReasons{
		PUID: designID, DecisionVisibility: []string{"DECISION_VISIBILITY_CONTENT_DISABLED"}, SourceType: "SOURCE_VOLUNTARY",
		ContentType: []string{"CONTENT_TYPE_IMAGE"}, AutomatedDetection: "Yes", AutomatedDecision: "AUTOMATED_DECISION_NOT_AUTOMATED",
		Redress: mustertype.DSARedress, PolicyVersion: policyVersion, Rules: []string{HumanRule}, Category: rc.Category, ReviewItem: it.ID,
	}
	if rc.Ground != nil && rc.Ground.Kind == mustertype.GroundStatute {
		s.DecisionGround, s.IllegalContentLegalGround, s.IllegalContentExplanation = "DECISION_GROUND_ILLEGAL_CONTENT", rc.Ground.Ref, rc.Ground.Explanation
	} else {
		s.DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
		if rc.Ground != nil {
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = rc.Ground.Ref, rc.Ground.Explanation
		}
	}
	detected := "automated screening flagged the design"
	if len(priorCodes) > 0 {
		detected = fmt.Sprintf("automated screening flagged the design (%s)", strings.Join(priorCodes, ", "))
	}
	s.DecisionFacts = fmt.Sprintf("Own-initiative screening before sale: %s, and a human reviewer decided to block it: %s. The design is not offered in the countries listed.", detected, rc.Title)
	if it.Kind == KindAppeal {
		s.DecisionFacts += " The decision was confirmed on the merchant's appeal by a reviewer other than the one who made it."
	}
	if prior.Market == catalog.EU {
		s.TerritorialScope = slices.Clone(catalog.EUMembers)
		slices.Sort(s.TerritorialScope)
	} else {
		s.TerritorialScope = []string{prior.Market}
	}
	s.CountriesList = s.TerritorialScope
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("review: statement of reasons: %w", err)
	}
	return b, nil
}

// BulkResult is the outcome of one id of a bulk decision.
type BulkResult struct {
	ID     int64   `json:"id"`
	OK     bool    `json:"ok"`
	Result *Result `json:"result,omitempty"`
	// Error and Code say why the item was not decided.
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
}

// Bulk decides up to BulkMax items by id with one decision (a reason is
// required), each atomically in its own transaction and audited. Items
// claimed by another reviewer, closed, or outside the reviewer's scope are
// reported and skipped; the reviewer need not claim them first.
func (s *Service) Bulk(ctx context.Context, r Reviewer, ids []int64, d Decision) ([]BulkResult, error) {
	if len(ids) == 0 || len(ids) > s.cfg.BulkMax {
		return nil, inputErr("invalid_ids", "give 1..%d item ids", s.cfg.BulkMax)
	}
	if _, ok := LookupReason(d.Reason); !ok {
		return nil, inputErr("invalid_reason", "a bulk decision needs a reason from %s", reasonList())
	}
	seen := map[int64]bool{}
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		res, err := s.decide(ctx, r, id, d, false)
		br := BulkResult{ID: id, OK: err == nil}
		if err == nil {
			br.Result = &res
		} else {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			br.Error, br.Code = err.Error(), ErrorCode(err)
		}
		out = append(out, br)
	}
	return out, nil
}

// ErrorCode is the stable code of a review error (for APIs and bulk
// results): the InputError's code, or not_found, not_claimed, not_open,
// four_eyes, forbidden, conflict, internal.
func ErrorCode(err error) string {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		return ie.Code
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrNotClaimed):
		return "not_claimed"
	case errors.Is(err, ErrNotOpen):
		return "not_open"
	case errors.Is(err, ErrFourEyes):
		return "four_eyes"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrEmpty):
		return "empty"
	}
	return "internal"
}
