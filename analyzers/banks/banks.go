// Package banks is the "bank" analyzer: it finds the entries of the
// trademark and symbol banks (package bank) inside a design and reports them
// as typed findings, with the tenant's licences applied and the symbol's
// observed form (orientation, tilt, context).
package banks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
	"github.com/muster-dev/muster/mustertype"
)

// AnalyzerVersion is the analyzer's version: this package's finding logic
// plus the matching algorithm.
const AnalyzerVersion = bank.Version

// Analyzer is the "bank" analyzer: it finds bank entries inside a design.
type Analyzer struct {
	set *bank.Set
	now func() time.Time
}

// Config configures the analyzer. The zero value means the defaults.
type Config struct {
	// Now returns the time used for disable-until and allow-list expiry.
	Now func() time.Time
}

// WithDefaults returns c with defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// New returns the analyzer over a loaded (and watched) set.
func New(set *bank.Set, cfg Config) *Analyzer {
	cfg = cfg.WithDefaults()
	return &Analyzer{set: set, now: cfg.Now}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return mustertype.AnalyzerBank }

// Version implements analyzers.Analyzer.
func (a *Analyzer) Version() string { return AnalyzerVersion }

// Summary is the analyzer's Result.Data.
type Summary struct {
	Matches []SummaryMatch `json:"matches"`
	Stats   match.Stats    `json:"stats"`
	// Skipped counts verified matches of disabled entries.
	Skipped int `json:"skipped_disabled"`
	// Corrected lists matches not reported because a reviewer marked that
	// entry wrong for these design bytes ("bank/id").
	Corrected []string `json:"corrected,omitempty"`
	// CorrectionsError says the corrections could not be read: every match
	// was reported (fail closed).
	CorrectionsError string `json:"corrections_error,omitempty"`
}

// SummaryMatch is one match in the summary.
type SummaryMatch struct {
	Bank     string  `json:"bank"`
	EntryID  string  `json:"entry_id"`
	Score    float64 `json:"score"`
	IoU      float64 `json:"iou"`
	Distance int     `json:"distance"`
	Dihedral int     `json:"dihedral"`
	Angle    float64 `json:"angle"`
}

// Analyze implements analyzers.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d == nil || d.Image == nil || d.Image.NRGBA == nil {
		return analyzers.Result{}, errors.New("bank: design has no image")
	}
	matches, st, err := a.set.Matcher().Find(ctx, d.Image.NRGBA)
	if err != nil {
		return analyzers.Result{}, err
	}
	now := a.now()
	res := analyzers.Result{Versions: map[string]string{}}
	for name, v := range a.set.Versions() {
		res.Versions["bank:"+name] = strconv.FormatInt(v, 10)
	}
	sum := Summary{Stats: st, Matches: []SummaryMatch{}}
	// Reviewers' "not this mark" corrections for these bytes. Unreadable:
	// report every match (fail closed).
	var corrected map[string]bool
	if d.SHA256 != "" && len(matches) > 0 {
		if corrected, err = a.set.Corrected(ctx, d.SHA256, d.TenantID); err != nil {
			if ctx.Err() != nil {
				return analyzers.Result{}, err
			}
			sum.CorrectionsError, corrected = err.Error(), nil
		}
	}
	var forms []bank.Form // the entry's own form, parallel to res.Findings
	for _, m := range matches {
		bankName, id := bank.SplitKey(m.Key)
		e, ok := a.set.Entry(bankName, id)
		if !ok {
			continue // removed since the match
		}
		if !e.Active(now) {
			sum.Skipped++
			continue
		}
		if corrected[m.Key] {
			sum.Corrected = append(sum.Corrected, m.Key)
			continue
		}
		kind := a.set.Kind(bankName)
		dist := m.Distance
		f := mustertype.Finding{
			Analyzer: a.Name(), Bank: bankName, EntryID: id, Label: e.Label,
			Score: math.Round(m.Score*1000) / 1000, Distance: &dist,
			Box: &mustertype.Box{X: m.Box.Min.X, Y: m.Box.Min.Y, W: m.Box.Dx(), H: m.Box.Dy()},
		}
		allowed := a.set.Allowed(bankName, id, d.TenantID, now)
		switch kind {
		case bank.KindSymbol:
			f.Type = mustertype.FindingSymbol
			form := matchedForm(e.Form, m)
			f.Attrs = mustertype.Attrs{Symbol: e.Form.Symbol, Form: &form, Allowlisted: allowed}
		default:
			f.Type = mustertype.FindingTrademark
			if kind == bank.KindCustom {
				f.Type = mustertype.FindingCustom
			}
			f.Attrs = mustertype.Attrs{
				Jurisdictions: nonNil(e.Jurisdictions), Classes: nonNilInt(e.Classes), Famous: e.Famous,
				Owner: e.Owner, WordMarks: nonNil(e.WordMarks), Allowlisted: allowed,
			}
		}
		res.Findings = append(res.Findings, f)
		forms = append(forms, e.Form)
		sum.Matches = append(sum.Matches, SummaryMatch{Bank: bankName, EntryID: id, Score: f.Score, IoU: m.IoU,
			Distance: m.Distance, Dihedral: m.Dihedral, Angle: m.Angle})
	}
	res.Findings = preferExactForms(res.Findings, forms)
	// Fail closed: with no active symbol or trademark entries the analyzer
	// "finds nothing" only because it cannot look; say so, and the policy
	// holds the design for review.
	active := a.set.ActiveByKind(now)
	for _, k := range []string{bank.KindSymbol, bank.KindTrademark} {
		if active[k] == 0 {
			res.Findings = append(res.Findings, mustertype.Finding{Type: mustertype.FindingIncomplete, Analyzer: a.Name(),
				Label: "no active " + k + " bank entries loaded"})
		}
	}
	res.Data = sum
	return res, nil
}

// preferExactForms resolves symbol entries that differ only by chirality or
// tilt. Matching is invariant to rotation and mirroring, so one drawn 卍
// also matches the 卐 entries; the observed form (orientation, tilt) tells
// which entry the design really shows. Among symbol findings of the same
// kind on the same region, those whose entry's form agrees with the observed
// form are kept and the others dropped; when none agrees, all are kept.
func preferExactForms(fs []mustertype.Finding, forms []bank.Form) []mustertype.Finding {
	drop := make([]bool, len(fs))
	exact := func(i int) bool {
		var orient string
		var tilt float64
		if obs := fs[i].Attrs.Form; obs != nil {
			orient, tilt = obs.Orientation, obs.TiltDeg
		}
		period := 360.0
		if forms[i].Symbol == symbols.KindSwastika {
			period = 90
		}
		d := math.Mod(math.Abs(tilt-forms[i].TiltDeg), period)
		d = math.Min(d, period-d)
		return orient == forms[i].Orientation && d <= 15
	}
	for i := range fs {
		if fs[i].Type != mustertype.FindingSymbol {
			continue
		}
		var group []int
		for j := range fs {
			if fs[j].Type == mustertype.FindingSymbol && forms[j].Symbol == forms[i].Symbol && boxIoU(fs[i].Box, fs[j].Box) >= 0.5 {
				group = append(group, j)
			}
		}
		anyExact := false
		for _, j := range group {
			anyExact = anyExact || exact(j)
		}
		if anyExact && !exact(i) {
			drop[i] = true
		}
	}
	out := fs[:0:0]
	for i, f := range fs {
		if !drop[i] {
			out = append(out, f)
		}
	}
	return out
}

func boxIoU(a, b *mustertype.Box) float64 {
	if a == nil || b == nil {
		return 0
	}
	x0, y0 := max(a.X, b.X), max(a.Y, b.Y)
	x1, y1 := min(a.X+a.W, b.X+b.W), min(a.Y+a.H, b.Y+b.H)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	inter := float64((x1 - x0) * (y1 - y0))
	return inter / (float64(a.W*a.H+b.W*b.H) - inter)
}

// matchedForm is the form of what was found: the reference's form turned
// and mirrored the way the matched variant was. A mirror swaps a swastika's
// orientation; the tilt is the reference's tilt plus the variant's rotation
// (clockwise positive, like the symbol drawings), folded into (-45°, 45°]
// for the four-fold swastika and (-180°, 180°] otherwise.
func matchedForm(f bank.Form, m match.Match) mustertype.SymbolForm {
	orient := f.Orientation
	tilt := f.TiltDeg
	if m.Dihedral&4 != 0 {
		tilt = -tilt
		switch orient {
		case symbols.Clockwise:
			orient = symbols.Counterclockwise
		case symbols.Counterclockwise:
			orient = symbols.Clockwise
		}
	}
	// Mask.Rotate turns counter-clockwise for positive angles, quarter turns too.
	tilt = tilt - m.Angle - 90*float64(m.Dihedral&3)
	period := 360.0
	if f.Symbol == symbols.KindSwastika {
		period = 90
	}
	tilt = math.Mod(tilt, period)
	if tilt > period/2 {
		tilt -= period
	}
	if tilt <= -period/2 {
		tilt += period
	}
	ctx := f.Context
	if m.Context != "" {
		ctx = m.Context
	}
	if ctx == "" {
		ctx = "none"
	}
	return mustertype.SymbolForm{Orientation: orient, TiltDeg: math.Round(tilt*10) / 10, Context: ctx, Religious: f.Religious}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilInt(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// Open loads every bank from PostgreSQL and the negative bank (shapes of
// non-brand icons that suppress false matches of generic art; built once,
// then cached on disk), and with a NATS connection applies announced bank
// changes incrementally until ctx ends. It is the analyzer's entry in the
// registry.
func Open(ctx context.Context, d analyzers.Deps) (analyzers.Analyzer, func() error, error) {
	if d.Pool == nil {
		return nil, nil, errors.New("analyzer bank: no database")
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set, err := bank.NewSet(bank.NewStore(d.Pool, nil), bank.SetConfig{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	if err := set.Load(ctx); err != nil {
		return nil, nil, fmt.Errorf("analyzer bank: load banks: %w", err)
	}
	log.Info("loading the negative bank (the first run rasterises ~10,000 icons)")
	neg, err := bank.LoadNegative(ctx, bank.NegativeOptions{CacheDir: d.CacheDir}, d.Progress)
	if err != nil {
		return nil, nil, fmt.Errorf("analyzer bank: %w", err)
	}
	set.Matcher().SetNegative(neg)
	// Other artists' drawings of the seeded brands (issue 14).
	alts, err := bank.LoadAlternates(ctx, bank.AlternateOptions{CacheDir: d.CacheDir, Slugs: set.IDs(bank.SimpleIconsBank)}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("analyzer bank: %w", err)
	}
	log.Info("alternate artwork loaded", "references", set.AddAlternates(bank.SimpleIconsBank, alts))
	if len(set.Versions()) == 0 {
		log.Warn("no banks loaded: the bank analyzer will find nothing (seed them with muster bank seed)")
	}
	if d.NATS != nil {
		if err := set.Watch(ctx, d.NATS); err != nil {
			return nil, nil, err
		}
	}
	return New(set, Config{}), nil, nil
}
