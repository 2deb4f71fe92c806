// Package listing is the "listing" analyzer: it screens the text the
// merchant typed — title, tags and description — for word marks, banned
// slogans and hate codes (the way Redbubble screens keywords), with the same
// matcher as the text read from the image. Findings carry the field they
// came from.
package listing

import (
	"context"
	"errors"
	"fmt"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/mustertype"
)

// Name is the analyzer's name.
const Name = mustertype.AnalyzerListing

// Analyzer screens a design's listing text.
type Analyzer struct {
	s *words.Screener
	// corr reads reviewers' "not this mark" corrections (nil: none).
	corr bank.Corrector
}

// WithCorrections makes the analyzer leave out the marks and phrases
// reviewers marked wrong in the same text of a listing field (source
// listing, keyed by mustertype.ListingTextKey), read from c on every
// analysis; it returns a.
func (a *Analyzer) WithCorrections(c bank.Corrector) *Analyzer {
	a.corr = c
	return a
}

// New returns the analyzer over a screener.
func New(s *words.Screener) *Analyzer { return &Analyzer{s: s} }

// Result is the analyzer's Result.Data: how much text was screened.
type Result struct {
	Fields  map[string]int `json:"fields"` // field → characters screened
	Matches int            `json:"matches"`
	// Corrected lists findings not reported because a reviewer marked the
	// entry wrong for the same text ("field: bank/id").
	Corrected []string `json:"corrected,omitempty"`
	// CorrectionsError says the corrections could not be read: every
	// finding was reported (fail closed).
	CorrectionsError string `json:"corrections_error,omitempty"`
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Version implements analyzers.Analyzer.
func (a *Analyzer) Version() string { return words.Version }

// Analyze implements analyzers.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d == nil {
		return analyzers.Result{}, errors.New("listing: no design")
	}
	res := analyzers.Result{Versions: a.s.Versions()}
	data := Result{Fields: map[string]int{}}
	for _, f := range []struct{ field, text string }{
		{"title", d.Title}, {"tags", words.Join(d.Tags)}, {"description", d.Description},
	} {
		if f.text == "" {
			continue
		}
		data.Fields[f.field] = len([]rune(f.text))
		fs := a.s.Screen(Name, f.field, f.text, nil)
		if a.corr != nil && len(fs) > 0 {
			// The key is the field's text as the reviewer saw it
			// (mustertype.ListingField, the same join as above).
			text := mustertype.ListingField(f.field, d.Title, d.Tags, d.Description)
			corrected, err := a.corr.CorrectedFor(ctx, mustertype.CorrectionListing, mustertype.ListingTextKey(text), d.TenantID)
			switch {
			case err != nil && ctx.Err() != nil:
				return analyzers.Result{}, err
			case err != nil:
				data.CorrectionsError = err.Error() // fail closed: keep them
			default:
				var dropped []string
				fs, dropped = bank.DropCorrected(fs, corrected)
				for _, k := range dropped {
					data.Corrected = append(data.Corrected, f.field+": "+k)
				}
			}
		}
		res.Findings = append(res.Findings, fs...)
	}
	data.Matches = len(res.Findings)
	res.Findings = append(res.Findings, a.s.Incomplete(Name)...)
	res.Data = data
	return res, nil
}

// Open opens the analyzer for the registry: the banks' word marks from the
// database, reloaded on every announced bank change.
func Open(ctx context.Context, d analyzers.Deps) (analyzers.Analyzer, func() error, error) {
	if d.Pool == nil {
		return nil, nil, errors.New("analyzer listing: no database")
	}
	s, err := words.Open(ctx, bank.NewStore(d.Pool, nil), words.Config{Logger: d.Logger})
	if err != nil {
		return nil, nil, fmt.Errorf("analyzer listing: %w", err)
	}
	if d.NATS != nil {
		if err := s.Watch(ctx, d.NATS); err != nil {
			return nil, nil, err
		}
	}
	return New(s).WithCorrections(bank.NewStore(d.Pool, nil)), nil, nil
}
