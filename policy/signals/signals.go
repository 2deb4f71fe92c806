// Package signals provides the typed view of a design's stored signals that
// policy conditions see: findings with their normalised attributes, the
// classifier categories, OCR text and word marks, the product, the market and
// the tenant's allow-list. The struct types are exposed to CEL as native types
// named signals.<Type>, with the field names given by their cel tags.
package signals

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/mustertype"
)

// Form is the visual form of a symbol finding.
type Form struct {
	// Orientation is "clockwise", "counterclockwise" or "".
	Orientation string `cel:"orientation"`
	// TiltDeg is the rotation of the symbol in degrees.
	TiltDeg float64 `cel:"tilt_deg"`
	// Context describes the surroundings ("disc", "flag", "crossed_out", …).
	Context string `cel:"context"`
	// Religious reports whether the analyzer saw a religious context.
	Religious bool `cel:"religious"`
}

// Finding is one finding as a condition sees it. Absent attributes are zero
// values (empty strings and lists, false, -1 for an absent distance).
type Finding struct {
	// Index is the position of the finding in policy.Input.Findings.
	Index    int64   `cel:"index"`
	Type     string  `cel:"type"`
	Analyzer string  `cel:"analyzer"`
	Bank     string  `cel:"bank"`
	Entry    string  `cel:"entry"`
	Label    string  `cel:"label"`
	Score    float64 `cel:"score"`
	Distance int64   `cel:"distance"`
	// Jurisdictions lists where a trademark is registered: ISO codes, "EU",
	// "WIPO:<codes>".
	Jurisdictions []string `cel:"jurisdictions"`
	// Classes are the Nice classes a trademark is registered for.
	Classes     []int64  `cel:"classes"`
	Famous      bool     `cel:"famous"`
	Owner       string   `cel:"owner"`
	WordMarks   []string `cel:"word_marks"`
	Symbol      string   `cel:"symbol"`
	Form        Form     `cel:"form"`
	Allowlisted bool     `cel:"allowlisted"`
	// Match is "text" for a word mark or phrase found in text.
	Match string `cel:"match"`
	// Field is where matched text came from: "image" (OCR), "title",
	// "tags", "description".
	Field string `cel:"field"`
	// Method is how the text matched: exact, spaced, skeleton,
	// ocr_confusion, fuzzy.
	Method string `cel:"method"`
	// Generic marks a word mark that is also an ordinary word.
	Generic bool `cel:"generic"`
	// Standalone marks a match that is the whole line or field.
	Standalone bool `cel:"standalone"`
	// BlockGrade marks a text match a policy may block on alone.
	BlockGrade bool `cel:"block_grade"`
	// Category is a phrase's category: slogan, greeting or code.
	Category string `cel:"category"`
}

// NSFW is the sexual-content classifier's output. Every known category and
// probability is present (0 when the analyzer did not run).
type NSFW struct {
	Present       bool               `cel:"present"`
	Model         string             `cel:"model"`
	Categories    map[string]float64 `cel:"categories"`
	Probabilities map[string]float64 `cel:"probabilities"`
	// Checked are the categories with the whole design's score checked
	// by the analyzer's anti-aliased second view (the same keys as
	// Categories); equal to Categories when the analysis carries no check
	// (older analyses, findings without an analysis).
	Checked map[string]float64 `cel:"checked"`
}

// WordMark is a word mark matched in the design's text.
type WordMark struct {
	Mark          string   `cel:"mark"`
	Entry         string   `cel:"entry"`
	Jurisdictions []string `cel:"jurisdictions"`
	Classes       []int64  `cel:"classes"`
	Famous        bool     `cel:"famous"`
	Allowlisted   bool     `cel:"allowlisted"`
}

// OCR is the recognised text and word-mark matches; empty when absent.
type OCR struct {
	Present   bool       `cel:"present"`
	Text      string     `cel:"text"`
	WordMarks []WordMark `cel:"word_marks"`
}

// Product is the product the design is printed on.
type Product struct {
	Name string `cel:"name"`
	// NiceClass is the product's Nice class, 0 when the product is unknown.
	NiceClass int64 `cel:"nice_class"`
	Known     bool  `cel:"known"`
}

// Market is the market a verdict is computed for.
type Market struct {
	Code string `cel:"code"`
	// EU is true for an EU member state and for the EU pseudo-market.
	EU bool `cel:"eu"`
}

// Tenant is the merchant the design belongs to.
type Tenant struct {
	ID string `cel:"id"`
	// Allowlist holds the entry ids (marks, symbols) the tenant may use.
	Allowlist []string `cel:"allowlist"`
}

// Design is everything about one design except the market.
type Design struct {
	ID       string
	Title    string
	Tags     []string
	Findings []Finding
	NSFW     NSFW
	OCR      OCR
	Product  Product
	Tenant   Tenant
}

// NSFW category and probability names that are always present.
var (
	nsfwCategories    = []string{"sexual_explicit", "sexual_suggestive", "drawing"}
	nsfwProbabilities = []string{"drawing", "hentai", "neutral", "porn", "sexy"}
)

// MarketOf returns the Market value for a code.
func MarketOf(code string) Market {
	return Market{Code: code, EU: code == catalog.EU || catalog.IsEUMember(code)}
}

// Build normalises stored analyses and findings into a Design. Malformed
// analyzer output is an error naming the analyzer, so a policy never silently
// ignores a signal.
func Build(designID, tenantID, product, title string, tags []string, analyses map[string]json.RawMessage, findings []mustertype.Finding, allowlist []string) (Design, error) {
	d := Design{ID: designID, Title: title, Tags: nonNil(tags), Tenant: Tenant{ID: tenantID, Allowlist: nonNil(allowlist)}}
	if p, ok := catalog.LookupProduct(product); ok {
		d.Product = Product{Name: p.Name, NiceClass: int64(p.NiceClass), Known: true}
	} else {
		d.Product = Product{Name: product}
	}
	nsfw, err := buildNSFW(analyses["nsfw"], findings)
	if err != nil {
		return Design{}, err
	}
	d.NSFW = nsfw
	ocr, err := buildOCR(analyses["ocr"], allowlist)
	if err != nil {
		return Design{}, err
	}
	d.OCR = ocr
	d.Findings = make([]Finding, 0, len(findings))
	for i, f := range findings {
		d.Findings = append(d.Findings, normaliseFinding(i, f, allowlist))
	}
	return d, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func normaliseFinding(i int, f mustertype.Finding, allowlist []string) Finding {
	at := f.Attrs
	out := Finding{
		Index: int64(i), Type: f.Type, Analyzer: f.Analyzer, Bank: f.Bank, Entry: f.EntryID,
		Label: f.Label, Score: f.Score, Distance: -1,
		Jurisdictions: nonNil(at.Jurisdictions),
		Classes:       int64s(at.Classes),
		Famous:        at.Famous,
		Owner:         at.Owner,
		WordMarks:     nonNil(at.WordMarks),
		Symbol:        at.Symbol,
		Allowlisted:   at.Allowlisted || (f.EntryID != "" && slices.Contains(allowlist, f.EntryID)),
		Match:         at.Match,
		Field:         at.Field,
		Method:        at.Method,
		Generic:       at.Generic,
		Standalone:    at.Standalone,
		BlockGrade:    at.BlockGrade,
		Category:      at.Category,
	}
	if f.Distance != nil {
		out.Distance = int64(*f.Distance)
	}
	if at.Form != nil {
		out.Form = Form{
			Orientation: at.Form.Orientation,
			TiltDeg:     at.Form.TiltDeg,
			Context:     at.Form.Context,
			Religious:   at.Form.Religious,
		}
	}
	return out
}

// buildNSFW reads the nsfw analyzer's stored result through its own type,
// mustertype.NSFWResult: unknown fields are an error, so a renamed field
// fails loudly instead of reading as zero.
func buildNSFW(raw json.RawMessage, findings []mustertype.Finding) (NSFW, error) {
	n := NSFW{Categories: map[string]float64{}, Probabilities: map[string]float64{}, Checked: map[string]float64{}}
	for _, k := range nsfwCategories {
		n.Categories[k] = 0
	}
	var checked *mustertype.NSFWCategories
	for _, k := range nsfwProbabilities {
		n.Probabilities[k] = 0
	}
	if len(raw) > 0 && string(raw) != "null" {
		var v mustertype.NSFWResult
		if err := decodeStrict(raw, &v); err != nil {
			return NSFW{}, fmt.Errorf("signals: nsfw analysis: %w", err)
		}
		n.Present = true
		n.Model = strings.Trim(v.Model+"@"+v.ModelVersion, "@")
		p := v.Probabilities
		for k, x := range map[string]float64{"drawing": p.Drawing, "hentai": p.Hentai, "neutral": p.Neutral, "porn": p.Porn, "sexy": p.Sexy} {
			n.Probabilities[k] = x
		}
		c := v.Categories
		n.Categories[mustertype.CategorySexualExplicit] = c.SexualExplicit
		n.Categories[mustertype.CategorySexualSuggestive] = c.SexualSuggestive
		n.Categories[mustertype.CategoryDrawing] = c.Drawing
		checked = v.Checked
	}
	// Findings of type nsfw raise a category to at least their score, so a
	// design with findings but no stored analysis is still seen.
	for _, f := range findings {
		if f.Type == mustertype.FindingNSFW && f.Label != "" {
			n.Present = true
			n.Categories[f.Label] = math.Max(n.Categories[f.Label], f.Score)
		}
	}
	// The checked categories are the analysis's own: its findings carry
	// the unchecked scores. Without a check they are the categories.
	if checked == nil {
		for k, v := range n.Categories {
			n.Checked[k] = v
		}
		return n, nil
	}
	n.Checked[mustertype.CategorySexualExplicit] = checked.SexualExplicit
	n.Checked[mustertype.CategorySexualSuggestive] = checked.SexualSuggestive
	n.Checked[mustertype.CategoryDrawing] = checked.Drawing
	return n, nil
}

// buildOCR reads the ocr analyzer's stored result through
// mustertype.OCRResult (strictly, like buildNSFW).
func buildOCR(raw json.RawMessage, allowlist []string) (OCR, error) {
	o := OCR{WordMarks: []WordMark{}}
	if len(raw) == 0 || string(raw) == "null" {
		return o, nil
	}
	var v mustertype.OCRResult
	if err := decodeStrict(raw, &v); err != nil {
		return OCR{}, fmt.Errorf("signals: ocr analysis: %w", err)
	}
	o.Present, o.Text = true, v.Text
	for _, w := range v.WordMarks {
		o.WordMarks = append(o.WordMarks, WordMark{
			Mark:          w.Mark,
			Entry:         w.EntryID,
			Jurisdictions: nonNil(w.Jurisdictions),
			Classes:       int64s(w.Classes),
			Famous:        w.Famous,
			Allowlisted:   w.Allowlisted || (w.EntryID != "" && slices.Contains(allowlist, w.EntryID)),
		})
	}
	return o, nil
}

// decodeStrict decodes JSON refusing unknown fields.
func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func int64s(l []int) []int64 {
	out := make([]int64, len(l))
	for i, n := range l {
		out[i] = int64(n)
	}
	return out
}

// RegisteredIn reports whether a mark registered in the given jurisdictions
// is protected in market: an ISO code protects that country; "EU" (an EU
// trade mark) protects every member state; "WIPO:<codes>" protects the
// designated countries (codes separated by commas, spaces or "+", "EU"
// allowed). For the EU pseudo-market a registration in any member state
// counts, because selling across the Union sells there too.
func RegisteredIn(jurisdictions []string, market string) bool {
	for _, j := range jurisdictions {
		j = strings.ToUpper(strings.TrimSpace(j))
		if rest, ok := strings.CutPrefix(j, "WIPO:"); ok {
			for _, c := range strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ' ' || r == '+' || r == ';' }) {
				if covers(c, market) {
					return true
				}
			}
			continue
		}
		if covers(j, market) {
			return true
		}
	}
	return false
}

func covers(j, market string) bool {
	switch {
	case j == market:
		return true
	case j == catalog.EU:
		return catalog.IsEUMember(market)
	case market == catalog.EU:
		return catalog.IsEUMember(j)
	}
	return false
}
