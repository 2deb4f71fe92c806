package policy

import (
	"context"
	"testing"

	"github.com/muster-dev/muster/mustertype"
)

// phrase builds a phrase finding the way analyzers/words reports it.
func phrase(id, category string, banned []string, blockGrade bool) mustertype.Finding {
	return mustertype.Finding{Type: mustertype.FindingPhrase, Analyzer: "ocr", Bank: "phrases", EntryID: id, Label: id, Score: 1,
		Attrs: mustertype.Attrs{Match: "text", Field: "image", Jurisdictions: banned, Category: category, BlockGrade: blockGrade}}
}

// wordMark builds a word-mark finding read in text.
func wordMark(entry string, generic, standalone, blockGrade bool, score float64) mustertype.Finding {
	return mustertype.Finding{Type: mustertype.FindingTrademark, Analyzer: "listing", Bank: "simple-icons", EntryID: entry, Label: entry, Score: score,
		Attrs: mustertype.Attrs{Match: "text", Field: "title", Jurisdictions: []string{"US", "EU"}, Classes: []int{25},
			Generic: generic, Standalone: standalone, BlockGrade: blockGrade}}
}

// TestTextRules: banned slogans block where the statute bans them and go to
// review elsewhere; codes review; word marks follow the trademark rules,
// generic marks in running text decide nothing alone.
func TestTextRules(t *testing.T) {
	t.Parallel()
	s := setup(t)
	siegHeil := phrase("sieg-heil", "greeting", []string{"DE", "AT"}, true)
	fuzzySieg := phrase("sieg-heil", "greeting", []string{"DE", "AT"}, false)
	code1488 := phrase("1488", "code", nil, false)
	nike := wordMark("nike", false, false, true, 1)
	apple := wordMark("apple", true, false, false, 0.3)
	appleAlone := wordMark("apple", true, true, true, 1)
	tests := []struct {
		name   string
		f      mustertype.Finding
		market string
		want   string
		code   string
	}{
		{"Sieg Heil in DE", siegHeil, "DE", Block, "banned_slogan_illegal"},
		{"Sieg Heil in AT", siegHeil, "AT", Block, "banned_slogan_illegal"},
		{"Sieg Heil in US", siegHeil, "US", Review, "hate_phrase_possible"},
		{"Sieg Heil read with edits in DE", fuzzySieg, "DE", Review, "hate_phrase_possible"},
		{"1488 in DE", code1488, "DE", Review, "hate_phrase_possible"},
		{"distinctive word mark in US", nike, "US", Block, "trademark_infringement"},
		{"distinctive word mark in BR", nike, "BR", Allow, CodeNoRuleMatched},
		{"generic mark in a phrase", apple, "US", Allow, CodeNoRuleMatched},
		{"generic mark standing alone", appleAlone, "US", Block, "trademark_infringement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := s.compiled.Decide(context.Background(), Input{DesignID: "d", Product: "tshirt", Markets: []string{tc.market}, Findings: []mustertype.Finding{tc.f}})
			if err != nil {
				t.Fatal(err)
			}
			mv := d.Markets[0]
			if mv.Outcome != tc.want || mv.Reasons[0].Code != tc.code {
				t.Fatalf("%s: %s %+v, want %s with %s", tc.market, mv.Outcome, mv.Reasons, tc.want, tc.code)
			}
			if tc.want == Block && tc.market == "DE" && len(mv.StatementOfReasons) == 0 {
				t.Fatal("an EU block without a statement of reasons")
			}
		})
	}
}
