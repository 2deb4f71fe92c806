package app

import (
	"context"
	"encoding/json"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/workers"
)

// Scanned is one design analysed and decided without being stored.
type Scanned struct {
	// Analyses maps an analyzer name to its JSON result.
	Analyses map[string]json.RawMessage
	// DurationMS maps an analyzer name to the time it took.
	DurationMS map[string]float64
	// Findings from all analyzers (never nil).
	Findings []mustertype.Finding
	// Decision is the live policy's answer for the design's markets.
	Decision mustertype.Decision
}

// Scan runs the analyzers on a decoded design and asks the policy, the way a
// worker does, without storing anything: `muster scan` and the evaluations
// (eval/benign) share this path so they measure what the pipeline decides.
func Scan(ctx context.Context, as []analyzers.Analyzer, decider workers.Decider, d *analyzers.Design) (Scanned, error) {
	analyses, findings, _, err := workers.Analyze(ctx, as, d, nil)
	if err != nil {
		return Scanned{}, err
	}
	out := Scanned{Analyses: map[string]json.RawMessage{}, DurationMS: map[string]float64{}, Findings: []mustertype.Finding{}}
	for _, a := range analyses {
		out.Analyses[a.Analyzer] = a.Result
		out.DurationMS[a.Analyzer] = a.DurationMS
	}
	if findings != nil {
		out.Findings = findings
	}
	out.Decision, err = decider.Decide(ctx, mustertype.Input{TenantID: d.TenantID, DesignID: d.ID, Product: d.Product, Markets: d.Markets,
		Title: d.Title, Tags: d.Tags, Description: d.Description, Analyses: out.Analyses, Findings: findings})
	if err != nil {
		return Scanned{}, err
	}
	return out, nil
}
