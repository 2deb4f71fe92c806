// Package policy turns the signals the analyzers produced into a verdict per
// market. The verdict types here are the contract between the worker, the API
// and the policy engines.
package policy

import (
	"context"
	"encoding/json"

	"github.com/muster-dev/muster/internal/analysis"
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
	TenantID string
	DesignID string
	Product  string
	Markets  []string
	Title    string
	Tags     []string
	// Analyses maps an analyzer name to its stored JSON result.
	Analyses map[string]json.RawMessage
	// Findings from all analyzers.
	Findings []analysis.Finding
	// Allowlist holds the entry ids (marks, symbols) the tenant owns or
	// licenses; findings of those entries are treated as allow-listed.
	Allowlist []string
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

// AllowAll is the minimal built-in policy: every market is allowed with the
// reason "no rule matched".
type AllowAll struct{}

// Version of the built-in policy.
func (AllowAll) Version() string { return "builtin-allow-all/1" }

// Decide allows every market.
func (a AllowAll) Decide(ctx context.Context, in Input) (Decision, error) {
	d := Decision{PolicyVersion: a.Version()}
	for _, m := range in.Markets {
		d.Markets = append(d.Markets, MarketVerdict{
			Market:  m,
			Outcome: Allow,
			Reasons: []Reason{{Code: "no_rule_matched", Outcome: Allow, Message: "no rule matched"}},
		})
	}
	return d, nil
}
