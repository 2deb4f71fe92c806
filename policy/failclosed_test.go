package policy

import (
	"context"
	"testing"

	"github.com/muster-dev/muster/mustertype"
)

// TestIncompleteAnalysisHoldsForReview: a missing signal never yields
// allow, and a block stays a block.
func TestIncompleteAnalysisHoldsForReview(t *testing.T) {
	t.Parallel()
	s := setup(t)
	incomplete := mustertype.Finding{Type: mustertype.FindingIncomplete, Analyzer: "bank", Label: "no active symbol bank entries loaded"}
	tests := []struct {
		name     string
		findings []mustertype.Finding
		market   string
		want     string
		code     string
	}{
		{"clean design with a missing bank", []mustertype.Finding{incomplete}, "US", Review, CodeAnalysisIncomplete},
		{"clean design with a missing bank in DE", []mustertype.Finding{incomplete}, "DE", Review, CodeAnalysisIncomplete},
		{"a block stays a block", []mustertype.Finding{hakenkreuz45, incomplete}, "DE", Block, "extremist_symbol_illegal"},
		{"nothing missing", nil, "US", Allow, CodeNoRuleMatched},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := s.compiled.Decide(context.Background(), Input{DesignID: "d", Product: "tshirt", Markets: []string{tc.market}, Findings: tc.findings})
			if err != nil {
				t.Fatal(err)
			}
			mv := d.Markets[0]
			if mv.Outcome != tc.want || mv.Reasons[0].Code != tc.code {
				t.Fatalf("%s: %s %+v, want %s with %s first", tc.market, mv.Outcome, mv.Reasons, tc.want, tc.code)
			}
		})
	}
}
