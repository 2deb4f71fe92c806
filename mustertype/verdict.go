package mustertype

import (
	"encoding/json"
	"time"
)

// Outcomes, in increasing precedence: block > review > allow.
const (
	Allow  = "allow"
	Review = "review"
	Block  = "block"
)

// Rank orders outcomes by precedence (allow 0, review 1, block 2).
func Rank(outcome string) int {
	switch outcome {
	case Block:
		return 2
	case Review:
		return 1
	}
	return 0
}

// Input is everything a policy may look at for one design. It is built from
// stored rows, so a verdict can be recomputed without re-running models.
type Input struct {
	TenantID    string
	DesignID    string
	Product     string
	Markets     []string
	Title       string
	Tags        []string
	Description string
	// Analyses maps an analyzer name to its stored JSON result.
	Analyses map[string]json.RawMessage
	// Findings from all analyzers.
	Findings []Finding
	// Allowlist holds the entry ids (marks, symbols) the tenant owns or
	// licenses; findings of those entries are treated as allow-listed.
	Allowlist []string
}

// Ground kinds.
const (
	GroundStatute = "statute"
	GroundTerms   = "terms"
	GroundNone    = "none"
)

// Ground is the legal or contractual ground of a rule.
type Ground struct {
	// Kind is statute, terms or none.
	Kind string `json:"kind"`
	// Ref names the statute ("StGB §86a") or the terms clause.
	Ref string `json:"ref,omitempty"`
	// Explanation is one line on why the content falls under Ref.
	Explanation string `json:"explanation,omitempty"`
}

// String renders the ground the way Reason.Ground carries it.
func (g Ground) String() string {
	switch g.Kind {
	case GroundTerms:
		return "terms: " + g.Ref
	case GroundNone, "":
		return ""
	}
	return g.Ref
}

// Reason explains one rule that fired (or why nothing did).
type Reason struct {
	Rule    string `json:"rule,omitempty"`
	Code    string `json:"code"`
	Outcome string `json:"outcome"`
	Message string `json:"message"`
	// Ground is the legal or contractual ground ("StGB §86a", "terms").
	Ground string `json:"ground,omitempty"`
	// Findings are indexes into Input.Findings that the rule relied on.
	Findings []int `json:"findings,omitempty"`
	// Found names what those findings are (the brand, symbol or phrase
	// found), so the merchant reads what to remove, not only why.
	Found []string `json:"found,omitempty"`
	// Legal is the rule's full ground (kind, ref, explanation).
	Legal *Ground `json:"legal,omitempty"`
	// Notes are the rule author's notes (e.g. why a rule is review only).
	Notes string `json:"notes,omitempty"`
}

// MarketVerdict is the outcome for one market.
type MarketVerdict struct {
	Market  string   `json:"market"`
	Outcome string   `json:"outcome"`
	Reasons []Reason `json:"reasons"`
	// StatementOfReasons is set for a block in an EU market (DSA Art. 17).
	StatementOfReasons json.RawMessage `json:"statement_of_reasons,omitempty"`
}

// Decision is a policy's answer for all requested markets.
type Decision struct {
	PolicyVersion string          `json:"policy_version"`
	Markets       []MarketVerdict `json:"markets"`
	// Shadow is the would-be decision of a shadow policy, if one is set.
	Shadow *Decision `json:"shadow,omitempty"`
}

// Outcome is the strictest outcome over all markets (allow when none).
func (d Decision) Outcome() string {
	out := Allow
	for _, m := range d.Markets {
		if Rank(m.Outcome) > Rank(out) {
			out = m.Outcome
		}
	}
	return out
}

// Market returns the verdict for one market and whether it is present.
func (d Decision) Market(code string) (MarketVerdict, bool) {
	for _, m := range d.Markets {
		if m.Market == code {
			return m, true
		}
	}
	return MarketVerdict{}, false
}

// Verdict causes.
const (
	CauseAnalysis = "analysis"
	CauseRedecide = "redecide"
	CauseReview   = "review"
)

// Analysis is one stored analyzer result.
type Analysis struct {
	Analyzer   string          `json:"analyzer"`
	Version    string          `json:"version"`
	Result     json.RawMessage `json:"result"`
	DurationMS float64         `json:"duration_ms"`
}

// Verdict is a recorded verdict: the decision, the versions of every
// analyzer, model, bank and policy behind it, why it was made and by whom.
type Verdict struct {
	ID            int64             `json:"id"`
	DesignID      string            `json:"design_id"`
	TenantID      string            `json:"tenant_id"`
	Outcome       string            `json:"outcome"`
	PolicyVersion string            `json:"policy_version"`
	Decision      Decision          `json:"decision"`
	Versions      map[string]string `json:"versions"`
	Cause         string            `json:"cause"`
	// Actor is who made a human decision ("" for automated verdicts).
	Actor     string    `json:"actor,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// NewVerdict is a verdict recorded after analysis: a re-decision under a
// new policy or a reviewer's decision. The store records it with its event
// in one transaction.
type NewVerdict struct {
	DesignID string
	Decision Decision
	// Versions are the analyzer, model, bank and policy versions behind it.
	Versions map[string]string
	// Cause is CauseRedecide or CauseReview.
	Cause string
	// Actor is who decided (a reviewer, or the operator running redecide).
	Actor string
	// Event is the event type appended with the verdict
	// ("verdict.redecided", "verdict.reviewed").
	Event string
	// EventData is merged into the event's data (the verdict id, outcome,
	// previous outcome and policy version are always recorded).
	EventData map[string]any
}

// StoredDesign is a decided design rebuilt from its stored rows: exactly the
// input the policy decided on, without re-running any model.
type StoredDesign struct {
	Input     Input
	CreatedAt time.Time
}
