package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy/signals"
)

// StatementOfReasons is the DSA Art. 17 statement for a block in an EU
// market (mustertype.StatementOfReasons, shared with reviewers' decisions).
type StatementOfReasons = mustertype.StatementOfReasons

func (c *Compiled) statementOfReasons(market string, in Input, design signals.Design, reasons []Reason) (json.RawMessage, error) {
	s := StatementOfReasons{
		PUID:               in.DesignID,
		DecisionVisibility: []string{"DECISION_VISIBILITY_CONTENT_DISABLED"},
		SourceType:         "SOURCE_VOLUNTARY",
		ContentType:        []string{"CONTENT_TYPE_IMAGE"},
		AutomatedDetection: "Yes",
		AutomatedDecision:  "AUTOMATED_DECISION_FULLY",
		Redress:            mustertype.DSARedress,
		PolicyVersion:      c.version,
	}
	var legal, legalWhy, terms, termsWhy []string
	var facts []string
	scope := map[string]bool{}
	for _, r := range reasons {
		if r.Outcome != Block {
			continue
		}
		s.Rules = append(s.Rules, r.Rule)
		rule := c.rule(r.Rule)
		if rule != nil && s.Category == "" {
			s.Category = rule.Category
		}
		if r.Legal != nil {
			switch r.Legal.Kind {
			case GroundStatute:
				legal = appendUnique(legal, r.Legal.Ref)
				legalWhy = appendUnique(legalWhy, r.Legal.Explanation)
			case GroundTerms:
				terms = appendUnique(terms, r.Legal.Ref)
				termsWhy = appendUnique(termsWhy, r.Legal.Explanation)
			}
		}
		facts = append(facts, describeFindings(r, design))
		for _, m := range scopeOf(rule, market) {
			scope[m] = true
		}
	}
	if len(legal) > 0 {
		s.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
		s.IllegalContentLegalGround = strings.Join(legal, "; ")
		s.IllegalContentExplanation = strings.Join(legalWhy, " ")
	} else {
		s.DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
	}
	if len(terms) > 0 {
		s.IncompatibleContentGround = strings.Join(terms, "; ")
		s.IncompatibleContentExplanation = strings.Join(termsWhy, " ")
	}
	s.DecisionFacts = fmt.Sprintf("Own-initiative automated screening of the design before sale. %s The design is not offered in the countries listed.", strings.Join(facts, " "))
	for _, m := range catalog.EUMembers {
		if scope[m] {
			s.TerritorialScope = append(s.TerritorialScope, m)
		}
	}
	slices.Sort(s.TerritorialScope)
	s.CountriesList = s.TerritorialScope
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("policy: statement of reasons: %w", err)
	}
	return b, nil
}

func (c *Compiled) rule(name string) *Rule {
	for i := range c.rules {
		if c.rules[i].Name == name {
			return c.rules[i].Rule
		}
	}
	return nil
}

// scopeOf is the member states a block in market applies to: the member
// state itself, or for the EU pseudo-market every member state the rule
// covers.
func scopeOf(r *Rule, market string) []string {
	if market != catalog.EU {
		return []string{market}
	}
	var out []string
	for _, m := range catalog.EUMembers {
		if r == nil || r.appliesTo(m) {
			out = append(out, m)
		}
	}
	return out
}

func describeFindings(r Reason, d signals.Design) string {
	if len(r.Findings) == 0 {
		return fmt.Sprintf("Rule %s: %s.", r.Rule, strings.TrimSuffix(r.Message, "."))
	}
	var parts []string
	for _, i := range r.Findings {
		if i < 0 || i >= len(d.Findings) {
			continue
		}
		f := d.Findings[i]
		what := f.Label
		if what == "" {
			what = f.Entry
		}
		parts = append(parts, fmt.Sprintf("%s %q (%s, score %.2f)", f.Type, what, f.Entry, f.Score))
	}
	return fmt.Sprintf("Rule %s (%s) on detected %s.", r.Rule, strings.TrimSuffix(r.Message, "."), strings.Join(parts, ", "))
}

func appendUnique(l []string, s string) []string {
	if s == "" || slices.Contains(l, s) {
		return l
	}
	return append(l, s)
}
