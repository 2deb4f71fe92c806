package listing_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/listing"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/mustertype"
)

// marks is a bank with one word mark.
type marks struct{}

func (marks) TextEntries(context.Context) ([]bank.TextEntry, map[string]int64, error) {
	return []bank.TextEntry{{Bank: "acme-marks", Kind: bank.KindTrademark, ID: "zorblax", Label: "Zorblax", Jurisdictions: []string{"US"},
		WordMarks: []string{"Zorblax"}}}, map[string]int64{"acme-marks": 1}, nil
}

// corrections answers CorrectedFor from a map keyed source|key.
type corrections struct {
	m   map[string]map[string]bool
	err error
}

func (c corrections) CorrectedFor(_ context.Context, source, key, _ string) (map[string]bool, error) {
	return c.m[source+"|"+key], c.err
}

// TestCorrectionsLeaveOutTheSameText: a word mark a reviewer marked wrong
// in a listing field's text is not reported for that text again — in any
// field that holds it — while other texts with the mark still are; a
// correction of the image (source ocr or image) does not touch the
// listing; unreadable corrections report everything and say why.
func TestCorrectionsLeaveOutTheSameText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := words.Open(ctx, marks{}, words.Config{})
	if err != nil {
		t.Fatal(err)
	}
	wrongTitle := "Zorblax the space cat"
	corr := corrections{m: map[string]map[string]bool{
		mustertype.CorrectionListing + "|" + mustertype.ListingTextKey(wrongTitle): {"acme-marks/zorblax": true},
		mustertype.CorrectionOCR + "|" + "bytes":                                   {"acme-marks/zorblax": true},
	}}
	tests := []struct {
		name       string
		d          analyzers.Design
		corr       corrections
		wantFields []string // fields with a zorblax finding
		wantDrop   []string
		wantErr    bool
	}{
		{"the corrected title", analyzers.Design{SHA256: "bytes", Title: wrongTitle}, corr, nil, []string{"title: acme-marks/zorblax"}, false},
		{"the same text as the description", analyzers.Design{Description: wrongTitle}, corr, nil, []string{"description: acme-marks/zorblax"}, false},
		{"another title with the mark", analyzers.Design{SHA256: "bytes", Title: "Zorblax summer tee"}, corr, []string{"title"}, nil, false},
		{"the corrected title beside other tags", analyzers.Design{Title: wrongTitle, Tags: []string{"zorblax"}}, corr, []string{"tags"}, []string{"title: acme-marks/zorblax"}, false},
		{"corrections unreadable: everything reported", analyzers.Design{Title: wrongTitle}, corrections{err: errors.New("db down")}, []string{"title"}, nil, true},
	}
	for _, tt := range tests {
		res, err := listing.New(s).WithCorrections(tt.corr).Analyze(ctx, &tt.d)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var fields []string
		for _, f := range res.Findings {
			if f.EntryID == "zorblax" {
				fields = append(fields, f.Attrs.Field)
			}
		}
		data := res.Data.(listing.Result)
		if !slices.Equal(fields, tt.wantFields) || !slices.Equal(data.Corrected, tt.wantDrop) || (data.CorrectionsError != "") != tt.wantErr {
			t.Errorf("%s: findings in %v, corrected %v, error %q; want %v, %v, error %v", tt.name, fields, data.Corrected, data.CorrectionsError, tt.wantFields, tt.wantDrop, tt.wantErr)
		}
	}
}
