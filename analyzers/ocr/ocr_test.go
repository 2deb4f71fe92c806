package ocr

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/bank"
	ocrmodel "github.com/muster-dev/muster/models/ocr"
	"github.com/muster-dev/muster/mustertype"
)

type entries []bank.TextEntry

func (e entries) TextEntries(context.Context) ([]bank.TextEntry, map[string]int64, error) {
	return e, map[string]int64{bank.SimpleIconsBank: 1}, nil
}

// TestScreenOnDesign: an ordinary word that is also a brand (Go, Just,
// Apple) is not a word mark the design carries when it is one word of a
// slogan, even when the layout puts it on a line of its own; it stands
// alone only when it is all the design says. Distinctive marks are found
// on any line.
func TestScreenOnDesign(t *testing.T) {
	t.Parallel()
	mk := func(id string, marks ...string) bank.TextEntry {
		return bank.TextEntry{Bank: bank.SimpleIconsBank, Kind: bank.KindTrademark, ID: id, Label: id, WordMarks: marks,
			Jurisdictions: []string{"US", "EU"}, Classes: []int{25}}
	}
	s, err := words.Open(context.Background(), entries{mk("go", "Go"), mk("just", "Just"), mk("apple", "Apple"), mk("nike", "Nike")}, words.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Incomplete("ocr")) > 0 {
		t.Skip("no word list (make textmatch-deps)")
	}
	tests := []struct {
		lines      string // "/" separates lines
		entry      string // expected word-mark entry carried, "" none
		blockGrade bool
	}{
		{"GO / OUTSIDE", "", false},
		{"JUST / BREATHE", "", false},
		{"Just breathe", "", false},
		{"Apple picking season", "", false},
		{"APPLE", "apple", true},
		{"A P P L E", "apple", true},
		{"TEAM / NIKE", "nike", true},
		{"I LOVE NIKE", "nike", true},
	}
	for _, tc := range tests {
		t.Run(tc.lines, func(t *testing.T) {
			t.Parallel()
			var read ocrmodel.Result
			for _, l := range strings.Split(tc.lines, "/") {
				read.Lines = append(read.Lines, ocrmodel.Line{Text: strings.TrimSpace(l)})
			}
			data, fs := Screen(s, read, nil)
			var carried []string
			for _, w := range data.WordMarks {
				carried = append(carried, w.EntryID)
			}
			if tc.entry == "" && len(carried) > 0 || tc.entry != "" && (len(carried) != 1 || carried[0] != tc.entry) {
				t.Errorf("word marks carried %v, want %q", carried, tc.entry)
			}
			for _, f := range fs {
				if f.Type != mustertype.FindingTrademark {
					continue
				}
				if f.Attrs.BlockGrade != (tc.blockGrade && f.EntryID == tc.entry) {
					t.Errorf("%s: block grade %v (generic %v, standalone %v, score %.2f)", f.EntryID, f.Attrs.BlockGrade, f.Attrs.Generic, f.Attrs.Standalone, f.Score)
				}
				if !f.Attrs.BlockGrade && f.Attrs.Generic && f.Score != words.ScoreGeneric {
					t.Errorf("%s: generic in running text scored %.2f", f.EntryID, f.Score)
				}
			}
		})
	}
}

// corrections answers CorrectedFor for source ocr and one sha256.
type corrections struct {
	sha string
	m   map[string]bool
	err error
}

func (c corrections) CorrectedFor(_ context.Context, source, sha, _ string) (map[string]bool, error) {
	if source != mustertype.CorrectionOCR || sha != c.sha {
		return nil, c.err
	}
	return c.m, c.err
}

// TestCorrectionsLeaveOutTheMarkForTheSameBytes: a word mark a reviewer
// marked wrong in the text read from these bytes is neither a finding nor
// a word mark the design carries; other marks stay; other bytes still
// raise it; unreadable corrections keep everything and say why.
func TestCorrectionsLeaveOutTheMarkForTheSameBytes(t *testing.T) {
	t.Parallel()
	mk := func(id string, marks ...string) bank.TextEntry {
		return bank.TextEntry{Bank: bank.SimpleIconsBank, Kind: bank.KindTrademark, ID: id, Label: id, WordMarks: marks, Jurisdictions: []string{"US"}}
	}
	s, err := words.Open(context.Background(), entries{mk("nike", "Nike"), mk("zorblax", "Zorblax")}, words.Config{})
	if err != nil {
		t.Fatal(err)
	}
	read := ocrmodel.Result{Lines: []ocrmodel.Line{{Text: "NIKE"}, {Text: "ZORBLAX"}}}
	wrong := corrections{sha: "aa", m: map[string]bool{bank.SimpleIconsBank + "/nike": true}}
	tests := []struct {
		name     string
		sha      string
		corr     corrections
		want     []string // entries found, in order
		wantDrop []string
		wantErr  bool
	}{
		{"the corrected bytes", "aa", wrong, []string{"zorblax"}, []string{bank.SimpleIconsBank + "/nike"}, false},
		{"other bytes", "bb", wrong, []string{"nike", "zorblax"}, nil, false},
		{"corrections unreadable", "aa", corrections{sha: "aa", err: context.DeadlineExceeded}, []string{"nike", "zorblax"}, nil, true},
	}
	for _, tt := range tests {
		a := New(nil, s, "test").WithCorrections(tt.corr)
		data, fs := Screen(s, read, nil)
		fs, err := a.applyCorrections(context.Background(), &analyzers.Design{SHA256: tt.sha}, &data, fs)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var found, carried []string
		for _, f := range fs {
			found = append(found, f.EntryID)
		}
		for _, w := range data.WordMarks {
			carried = append(carried, w.EntryID)
		}
		if !slices.Equal(found, tt.want) || !slices.Equal(carried, tt.want) || !slices.Equal(data.Corrected, tt.wantDrop) || (data.CorrectionsError != "") != tt.wantErr {
			t.Errorf("%s: found %v, carried %v, corrected %v, error %q; want %v, %v, error %v", tt.name, found, carried, data.Corrected, data.CorrectionsError, tt.want, tt.wantDrop, tt.wantErr)
		}
	}
}
