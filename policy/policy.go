// Package policy turns the signals the analyzers produced into a verdict per
// market. The verdict types here are the contract between the worker, the API
// and the policy engines.
package policy

import (
	"context"

	"github.com/muster-dev/muster/mustertype"
)

// The verdict types are defined in the leaf package mustertype, shared with
// the store, the API, webhooks and review; policy names them for brevity.
type (
	// Input is everything a policy may look at for one design.
	Input = mustertype.Input
	// Reason explains one rule that fired (or why nothing did).
	Reason = mustertype.Reason
	// MarketVerdict is the outcome for one market.
	MarketVerdict = mustertype.MarketVerdict
	// Decision is a policy's answer for all requested markets.
	Decision = mustertype.Decision
	// Ground is the legal or contractual ground of a rule.
	Ground = mustertype.Ground
)

// Outcomes, in increasing precedence: block > review > allow.
const (
	Allow  = mustertype.Allow
	Review = mustertype.Review
	Block  = mustertype.Block
)

// Rank orders outcomes by precedence (allow 0, review 1, block 2).
func Rank(outcome string) int { return mustertype.Rank(outcome) }

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
