package policy

import (
	"context"
	"fmt"
	"slices"

	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/mustertype"
)

// The "where each market stands" matrix: a version's outcome per market
// for a clear case of each category, evaluated by the engine itself (not
// inferred from rule text), with the rule that decided it.

// Probe is a clear, synthetic case of a category: the findings an analyzer
// would report for it, on a T-shirt (Nice class 25).
type Probe struct {
	Key, Title string
	Findings   []mustertype.Finding
}

// Category is a row group of the matrix.
type Category struct {
	Key, Title string
	Probes     []Probe
}

// MatrixCategories are the categories legal reads the matrix by:
// trademarks, extremist symbols, sexual content, text and slogans.
func MatrixCategories(markets []string) []Category {
	sym := func(entry, symbol string, form *mustertype.SymbolForm) mustertype.Finding {
		return mustertype.Finding{Type: mustertype.FindingSymbol, Analyzer: "bank", Bank: "symbols", EntryID: entry, Label: entry, Score: 0.95,
			Attrs: mustertype.Attrs{Symbol: symbol, Form: form}}
	}
	nsfw := func(label string, score float64) mustertype.Finding {
		return mustertype.Finding{Type: mustertype.FindingNSFW, Analyzer: "nsfw", Label: label, Score: score}
	}
	phrase := func(id, category string, banned []string) mustertype.Finding {
		return mustertype.Finding{Type: mustertype.FindingPhrase, Analyzer: "ocr", Bank: "phrases", EntryID: id, Label: id, Score: 1,
			Attrs: mustertype.Attrs{Match: "text", Field: "image", Jurisdictions: banned, Category: category, BlockGrade: len(banned) > 0}}
	}
	return []Category{
		{Key: "trademarks", Title: "Trademarks", Probes: []Probe{
			{Key: "registered_mark", Title: "A mark registered in the market for clothing (class 25), match 0.95, not licensed",
				Findings: []mustertype.Finding{{Type: mustertype.FindingTrademark, Analyzer: "bank", Bank: "simple-icons", EntryID: "probe-mark", Label: "probe-mark", Score: 0.95,
					Attrs: mustertype.Attrs{Jurisdictions: markets, Classes: []int{25}, Owner: "Probe Inc."}}}},
			{Key: "famous_mark", Title: "A famous mark registered in the market for other goods (class 32), match 0.97",
				Findings: []mustertype.Finding{{Type: mustertype.FindingTrademark, Analyzer: "bank", Bank: "simple-icons", EntryID: "probe-famous", Label: "probe-famous", Score: 0.97,
					Attrs: mustertype.Attrs{Jurisdictions: markets, Classes: []int{32}, Famous: true, Owner: "Probe Inc."}}}},
		}},
		{Key: "symbols", Title: "Extremist symbols", Probes: []Probe{
			{Key: "hakenkreuz", Title: "Nazi hakenkreuz (clockwise, tilted 45°, on a disc)",
				Findings: []mustertype.Finding{sym("hakenkreuz-45", "swastika", &mustertype.SymbolForm{Orientation: "clockwise", TiltDeg: 45, Context: "disc"})}},
			{Key: "hammer_sickle", Title: "Hammer and sickle", Findings: []mustertype.Finding{sym("hammer-sickle", "hammer_sickle", nil)}},
			{Key: "z_symbol", Title: "Z (Russian invasion symbol)", Findings: []mustertype.Finding{sym("z-symbol", "z_symbol", nil)}},
		}},
		{Key: "sexual", Title: "Sexual content", Probes: []Probe{
			{Key: "explicit", Title: "Sexually explicit, classifier 0.90", Findings: []mustertype.Finding{nsfw(mustertype.CategorySexualExplicit, 0.9)}},
			{Key: "suggestive", Title: "Sexually suggestive, classifier 0.90", Findings: []mustertype.Finding{nsfw(mustertype.CategorySexualSuggestive, 0.9)}},
		}},
		{Key: "text", Title: "Text and slogans", Probes: []Probe{
			{Key: "banned_slogan", Title: "A slogan banned in DE and AT (\"Sieg Heil\"), read without edits",
				Findings: []mustertype.Finding{phrase("sieg-heil", "greeting", []string{"DE", "AT"})}},
			{Key: "hate_code", Title: "A hate code (\"1488\")", Findings: []mustertype.Finding{phrase("1488", "code", nil)}},
		}},
	}
}

// ProbeOutcome is one probe's outcome in one market.
type ProbeOutcome struct {
	Probe   string `json:"probe"`
	Title   string `json:"title"`
	Outcome string `json:"outcome"`
	// Rule and Code decided it (empty Rule: no rule matched).
	Rule   string `json:"rule,omitempty"`
	Code   string `json:"code"`
	Ground string `json:"ground,omitempty"`
}

// MatrixCell is a category in a market: the strictest of its probes.
type MatrixCell struct {
	Outcome string         `json:"outcome"`
	Rule    string         `json:"rule,omitempty"`
	Code    string         `json:"code"`
	Probes  []ProbeOutcome `json:"probes"`
}

// Matrix is a version's stance per market and category.
type Matrix struct {
	Version    string                           `json:"version"`
	Markets    []string                         `json:"markets"`
	Categories []Category                       `json:"-"`
	Cells      map[string]map[string]MatrixCell `json:"cells"` // market → category key → cell
}

// MatrixMarkets are the markets a document names (rules' markets, except
// lists and per-market grounds) plus the EU pseudo-market and the largest
// markets every policy must answer for, sorted.
func MatrixMarkets(doc *Document) []string {
	set := map[string]bool{"EU": true, "US": true, "GB": true, "DE": true, "FR": true, "JP": true, "IN": true, "BR": true, "AU": true, "CA": true}
	for _, r := range doc.Rules {
		for _, m := range slices.Concat(r.Markets, r.Except) {
			if m != "*" && catalog.IsMarket(m) {
				set[m] = true
			}
		}
		for m := range r.Grounds {
			set[m] = true
		}
	}
	return sortedKeys(set)
}

// Matrix evaluates every probe in every market (nil: MatrixMarkets).
func (c *Compiled) Matrix(ctx context.Context, markets []string) (Matrix, error) {
	if markets == nil {
		markets = MatrixMarkets(c.doc)
	}
	cats := MatrixCategories(markets)
	mx := Matrix{Version: c.version, Markets: markets, Categories: cats, Cells: map[string]map[string]MatrixCell{}}
	for _, m := range markets {
		mx.Cells[m] = map[string]MatrixCell{}
	}
	for _, cat := range cats {
		for _, p := range cat.Probes {
			d, err := c.Decide(ctx, Input{DesignID: "probe-" + p.Key, Product: "tshirt", Markets: markets, Findings: p.Findings})
			if err != nil {
				return Matrix{}, fmt.Errorf("policy: matrix probe %s: %w", p.Key, err)
			}
			for _, mv := range d.Markets {
				top := mv.Reasons[0]
				po := ProbeOutcome{Probe: p.Key, Title: p.Title, Outcome: mv.Outcome, Rule: top.Rule, Code: top.Code, Ground: top.Ground}
				cell := mx.Cells[mv.Market][cat.Key]
				cell.Probes = append(cell.Probes, po)
				if cell.Outcome == "" || Rank(po.Outcome) > Rank(cell.Outcome) {
					cell.Outcome, cell.Rule, cell.Code = po.Outcome, po.Rule, po.Code
				}
				mx.Cells[mv.Market][cat.Key] = cell
			}
		}
	}
	return mx, nil
}

// RuleIndex returns the index of the rule named name, or -1.
func (d *Document) RuleIndex(name string) int {
	return slices.IndexFunc(d.Rules, func(r Rule) bool { return r.Name == name })
}

// Preview decides in under content (a whole policy document, e.g. the
// draft with one rule edited), compiled without caching.
func Preview(ctx context.Context, content []byte, in Input, cfg Config) (Decision, error) {
	doc, err := ParseDocument(content)
	if err != nil {
		return Decision{}, err
	}
	c, err := Compile(doc, "preview", cfg.WithDefaults())
	if err != nil {
		return Decision{}, err
	}
	return c.Decide(ctx, in)
}

// LiveCompiled returns the compiled live version.
func (s *Store) LiveCompiled(ctx context.Context) (*Compiled, error) {
	st, err := s.State(ctx)
	if err != nil {
		return nil, err
	}
	if st.Live == nil {
		return nil, fmt.Errorf("policy: no live version: %w", ErrNotFound)
	}
	return s.Compiled(ctx, *st.Live)
}
