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
}

// New returns the analyzer over a screener.
func New(s *words.Screener) *Analyzer { return &Analyzer{s: s} }

// Result is the analyzer's Result.Data: how much text was screened.
type Result struct {
	Fields  map[string]int `json:"fields"` // field → characters screened
	Matches int            `json:"matches"`
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
		res.Findings = append(res.Findings, a.s.Screen(Name, f.field, f.text, nil)...)
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
	return New(s), nil, nil
}
