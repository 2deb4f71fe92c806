package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy/signals"
)

// Reason codes the engine itself produces.
const (
	// CodeNoRuleMatched is the reason of an allow when no rule fired.
	CodeNoRuleMatched = "no_rule_matched"
	// CodeRuleError marks a rule whose condition failed at run time (cost
	// limit, missing key): the market goes to review, never silently allow.
	CodeRuleError = "rule_error"
	// CodeAnalysisIncomplete marks a market held for review because an
	// analyzer reported that a signal is missing (an empty or absent bank,
	// a model that could not run): never allowed on a missing signal.
	CodeAnalysisIncomplete = "analysis_incomplete"
)

// activation resolves the condition variables without allocating a map per
// evaluation.
type activation struct {
	findings, nsfw, ocr, product, tenant, title, tags ref.Val
	market, f                                         ref.Val
	params                                            map[string]ref.Val
}

func (a *activation) ResolveName(name string) (any, bool) {
	var v ref.Val
	switch name {
	case "findings":
		v = a.findings
	case "f":
		v = a.f
	case "market":
		v = a.market
	case "nsfw":
		v = a.nsfw
	case "ocr":
		v = a.ocr
	case "product":
		v = a.product
	case "tenant":
		v = a.tenant
	case "title":
		v = a.title
	case "tags":
		v = a.tags
	default:
		p, ok := a.params[name]
		return p, ok
	}
	return v, v != nil
}

func (a *activation) Parent() interpreter.Activation { return nil }

// ruleResult is the outcome of one rule for one design (and market).
type ruleResult struct {
	fired    bool
	findings []int
	err      error
}

// Decide evaluates the policy for every market of in. Per market the outcome
// is the highest-ranked outcome of the rules that fired (block > review >
// allow); with no rule fired it is allow with reason no_rule_matched. A block
// in an EU market carries a DSA Art. 17 statement of reasons.
func (c *Compiled) Decide(ctx context.Context, in Input) (Decision, error) {
	design, err := signals.Build(in.DesignID, in.TenantID, in.Product, in.Title, in.Tags, in.Analyses, in.Findings, in.Allowlist)
	if err != nil {
		return Decision{}, fmt.Errorf("policy: design %s: %w", in.DesignID, err)
	}
	return c.decide(ctx, in, design)
}

func (c *Compiled) decide(ctx context.Context, in Input, design signals.Design) (Decision, error) {
	ad := c.adapter
	findingVals := make([]ref.Val, len(design.Findings))
	for i := range design.Findings {
		findingVals[i] = ad.NativeToValue(design.Findings[i])
	}
	act := &activation{
		findings: types.NewRefValList(ad, findingVals),
		nsfw:     ad.NativeToValue(design.NSFW),
		ocr:      ad.NativeToValue(design.OCR),
		product:  ad.NativeToValue(design.Product),
		tenant:   ad.NativeToValue(design.Tenant),
		title:    types.String(design.Title),
		tags:     ad.NativeToValue(design.Tags),
		params:   c.params,
	}
	// Results of conditions that do not read the market, shared by markets.
	shared := make(map[int]ruleResult)
	d := Decision{PolicyVersion: c.version, Markets: make([]MarketVerdict, 0, len(in.Markets))}
	for _, m := range in.Markets {
		if err := ctx.Err(); err != nil {
			return Decision{}, err
		}
		act.market = ad.NativeToValue(signals.MarketOf(m))
		mv := MarketVerdict{Market: m, Outcome: Allow}
		for i := range c.rules {
			r := &c.rules[i]
			if !r.appliesTo(m) || (len(r.Classes) > 0 && !slices.Contains(r.Classes, int(design.Product.NiceClass))) {
				continue
			}
			res, ok := shared[i]
			if !ok {
				res = c.evalRule(ctx, r, act, findingVals)
				if !r.market {
					shared[i] = res
				}
			}
			if res.err != nil {
				c.cfg.Logger.WarnContext(ctx, "policy rule failed", "version", c.version, "rule", r.Name, "design", in.DesignID, "market", m, "err", res.err)
				mv.Reasons = append(mv.Reasons, Reason{Rule: r.Name, Code: CodeRuleError, Outcome: Review,
					Message: fmt.Sprintf("rule %s could not be evaluated: %v", r.Name, res.err)})
				continue
			}
			if !res.fired {
				continue
			}
			g := r.groundFor(m)
			found := foundNames(in.Findings, res.findings)
			msg := r.message()
			if len(found) > 0 {
				msg += " (found: " + strings.Join(found, ", ") + ")"
			}
			mv.Reasons = append(mv.Reasons, Reason{Rule: r.Name, Code: r.Code, Outcome: r.Outcome,
				Message: msg, Found: found, Ground: g.String(), Findings: res.findings, Legal: &g, Notes: r.Notes})
		}
		// Fail closed: a missing signal holds the market for review
		// whatever the rules say (it is the engine's rule, not the pack's,
		// so no policy edit can turn it off).
		for i, f := range in.Findings {
			if f.Type == mustertype.FindingIncomplete {
				mv.Reasons = append(mv.Reasons, Reason{Code: CodeAnalysisIncomplete, Outcome: Review, Findings: []int{i},
					Message: "analysis incomplete: " + f.Label})
			}
		}
		if len(mv.Reasons) == 0 {
			mv.Reasons = []Reason{{Code: CodeNoRuleMatched, Outcome: Allow, Message: "no rule matched"}}
		}
		// Highest precedence first, rule order kept within an outcome.
		slices.SortStableFunc(mv.Reasons, func(a, b Reason) int { return Rank(b.Outcome) - Rank(a.Outcome) })
		mv.Outcome = mv.Reasons[0].Outcome
		if mv.Outcome == Block && signals.MarketOf(m).EU {
			sor, err := c.statementOfReasons(m, in, design, mv.Reasons)
			if err != nil {
				return Decision{}, err
			}
			mv.StatementOfReasons = sor
		}
		d.Markets = append(d.Markets, mv)
	}
	return d, nil
}

func (r *Rule) message() string {
	if r.Description != "" {
		return r.Description
	}
	return r.Name
}

func (c *Compiled) evalRule(ctx context.Context, r *compiledRule, act *activation, findings []ref.Val) ruleResult {
	if r.Scope != ScopeFinding {
		ok, err := c.evalBool(ctx, r, act)
		return ruleResult{fired: ok, err: err}
	}
	var res ruleResult
	for i, f := range findings {
		act.f = f
		ok, err := c.evalBool(ctx, r, act)
		if err != nil {
			act.f = nil
			return ruleResult{err: err}
		}
		if ok {
			res.fired = true
			res.findings = append(res.findings, i)
		}
	}
	act.f = nil
	return res
}

func (c *Compiled) evalBool(ctx context.Context, r *compiledRule, act *activation) (bool, error) {
	out, _, err := r.prg.ContextEval(ctx, act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition returned %s, not bool", out.Type())
	}
	return bool(b), nil
}

// foundNames names the findings a rule relied on, once each, in order: the
// entry's label with its owner for marks ("Nike (Nike, Inc.)"), the label
// otherwise.
func foundNames(fs []mustertype.Finding, idx []int) []string {
	var out []string
	seen := map[string]bool{}
	for _, i := range idx {
		if i < 0 || i >= len(fs) {
			continue
		}
		f := fs[i]
		name := f.Label
		if name == "" {
			name = f.EntryID
		}
		if f.Attrs.Owner != "" && !strings.EqualFold(f.Attrs.Owner, name) {
			name += " (" + f.Attrs.Owner + ")"
		}
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	return out
}
