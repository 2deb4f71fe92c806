package benigngen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/workers"
)

// DefaultMarkets cover the default pack's distinct rule sets: the general
// rules (US, GB, JP, BR), the EU and member states with symbol statutes
// (DE, AT, FR), and the public-decency markets (SA, AE).
var DefaultMarkets = []string{"US", "GB", "EU", "DE", "AT", "FR", "JP", "BR", "SA", "AE"}

// Scanner runs designs through Muster's scan path (app.Scan: every
// analyzer, then the live policy), as `muster scan` does.
type Scanner struct {
	Analyzers []analyzers.Analyzer
	Decider   workers.Decider
	Markets   []string
	Product   string
	Limits    imaging.Limits
}

// Cause is why a design was not allowed in a market.
type Cause struct {
	Market  string `json:"market"`
	Outcome string `json:"outcome"`
	Rule    string `json:"rule"`
	Code    string `json:"code"`
	// Analyzer is the analyzer whose signal the rule read.
	Analyzer string `json:"analyzer"`
	// Source is where an NSFW score came from: image or tile (with the box).
	Source string          `json:"source,omitempty"`
	Box    *mustertype.Box `json:"box,omitempty"`
	Score  float64         `json:"score,omitempty"`
	Label  string          `json:"label,omitempty"`
}

// Result is one scanned design.
type Result struct {
	Name     string                 `json:"name"`
	Split    string                 `json:"split"`
	Desc     string                 `json:"desc"`
	Kind     string                 `json:"kind"`
	Ground   string                 `json:"ground"`
	Format   string                 `json:"format"`
	Big      bool                   `json:"big"`
	Outcomes map[string]string      `json:"outcomes"`
	Causes   []Cause                `json:"causes"`
	NSFW     *mustertype.NSFWResult `json:"nsfw,omitempty"`
	// OCRText is what the ocr analyzer read (its lines joined by
	// newlines) and OCRScores each line's recognition score, so the text
	// screening can be replayed on a run's records without the models.
	OCRText   string    `json:"ocr_text,omitempty"`
	OCRScores []float64 `json:"ocr_scores,omitempty"`
	NSFWMS    float64   `json:"nsfw_ms"`
	TotalMS   float64   `json:"total_ms"`
	Err       string    `json:"error,omitempty"`
}

// Scan decodes the sample's bytes with the one decoding path and runs it
// through app.Scan.
func (s Scanner) Scan(ctx context.Context, smp Sample, split string) Result {
	r := Result{Name: smp.Name, Split: split, Desc: smp.Describe(), Kind: smp.Kind, Ground: smp.Background, Format: smp.Format,
		Big: smp.Width*smp.Height >= 4000*4000, Outcomes: map[string]string{}}
	img, err := imaging.Decode(smp.Data, "", s.Limits)
	if err != nil {
		r.Err = "decode: " + err.Error()
		return r
	}
	d := &analyzers.Design{ID: smp.Name, Product: s.Product, Markets: s.Markets, Image: img}
	t := time.Now()
	sc, err := app.Scan(ctx, s.Analyzers, s.Decider, d)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.TotalMS = float64(time.Since(t).Microseconds()) / 1000
	r.NSFWMS = sc.DurationMS[mustertype.AnalyzerNSFW]
	if raw, ok := sc.Analyses[mustertype.AnalyzerNSFW]; ok {
		var n mustertype.NSFWResult
		if json.Unmarshal(raw, &n) == nil {
			n.Tiles = nil // keep reports small; the source box is in the causes
			r.NSFW = &n
		}
	}
	if raw, ok := sc.Analyses[mustertype.AnalyzerOCR]; ok {
		var o mustertype.OCRResult
		if json.Unmarshal(raw, &o) == nil {
			r.OCRText = o.Text
			for _, l := range o.Lines {
				r.OCRScores = append(r.OCRScores, l.Score)
			}
		}
	}
	for _, m := range sc.Decision.Markets {
		r.Outcomes[m.Market] = m.Outcome
		if m.Outcome == mustertype.Allow {
			continue
		}
		for _, rs := range m.Reasons {
			if rs.Outcome == mustertype.Allow {
				continue
			}
			c := Cause{Market: m.Market, Outcome: rs.Outcome, Rule: rs.Rule, Code: rs.Code}
			for _, fi := range rs.Findings {
				if fi >= 0 && fi < len(sc.Findings) {
					f := sc.Findings[fi]
					c.Analyzer, c.Label, c.Score, c.Box, c.Source = f.Analyzer, f.Label+f.EntryID, f.Score, f.Box, f.Attrs.Source
					break
				}
			}
			if c.Analyzer == "" && strings.Contains(rs.Code, "sexual") {
				// Design-scope NSFW rules read nsfw.categories: name the
				// NSFW finding behind the highest category.
				c.Analyzer = mustertype.AnalyzerNSFW
				for _, f := range sc.Findings {
					if f.Type == mustertype.FindingNSFW && f.Score > c.Score {
						c.Label, c.Score, c.Box, c.Source = f.Label, f.Score, f.Box, f.Attrs.Source
					}
				}
			}
			if c.Analyzer == "" {
				c.Analyzer = "policy"
			}
			r.Causes = append(r.Causes, c)
		}
	}
	return r
}

// Wilson is the Wilson score interval for k successes in n trials at 95 %.
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959964
	p := float64(k) / float64(n)
	den := 1 + z*z/float64(n)
	c := p + z*z/(2*float64(n))
	m := z * math.Sqrt(p*(1-p)/float64(n)+z*z/(4*float64(n)*float64(n)))
	return math.Max(0, (c-m)/den), math.Min(1, (c+m)/den)
}

// NotAllowed reports whether r was held (review or block) in any market.
func (r Result) NotAllowed() bool {
	for _, o := range r.Outcomes {
		if o != mustertype.Allow {
			return true
		}
	}
	return r.Err != ""
}

// Report prints the tallies of results, one section per split.
func Report(w io.Writer, results []Result, markets []string) {
	splits := []string{}
	for _, r := range results {
		if !slices.Contains(splits, r.Split) {
			splits = append(splits, r.Split)
		}
	}
	for _, sp := range splits {
		var rs []Result
		for _, r := range results {
			if r.Split == sp {
				rs = append(rs, r)
			}
		}
		reportSplit(w, sp, rs, markets)
	}
}

func pct(k, n int) string {
	if n == 0 {
		return "-"
	}
	lo, hi := Wilson(k, n)
	return fmt.Sprintf("%d (%.2f%%, %.2f–%.2f)", k, 100*float64(k)/float64(n), 100*lo, 100*hi)
}

func reportSplit(w io.Writer, split string, rs []Result, markets []string) {
	n := len(rs)
	fmt.Fprintf(w, "\n== %s seeds: %d harmless designs ==\n", split, n)
	errs, held, blocked := 0, 0, 0
	var nsfwMS, nsfwMSBig []float64
	for _, r := range rs {
		if r.Err != "" {
			errs++
		}
		if r.NotAllowed() {
			held++
		}
		for _, o := range r.Outcomes {
			if o == mustertype.Block {
				blocked++
				break
			}
		}
		nsfwMS = append(nsfwMS, r.NSFWMS)
		if r.Big {
			nsfwMSBig = append(nsfwMSBig, r.NSFWMS)
		}
	}
	fmt.Fprintf(w, "not allowed in some market: %s; blocked somewhere: %s; errors: %d   (count, share, Wilson 95%%)\n", pct(held, n), pct(blocked, n), errs)
	fmt.Fprintf(w, "nsfw analyzer: mean %.0f ms per design, mean %.0f ms per 4500×5400-class print file (%d)\n", mean(nsfwMS), mean(nsfwMSBig), len(nsfwMSBig))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "market\tnot allowed\tblocked\treview")
	for _, m := range markets {
		na, bl, rv := 0, 0, 0
		for _, r := range rs {
			switch r.Outcomes[m] {
			case mustertype.Allow:
			case mustertype.Block:
				na++
				bl++
			case mustertype.Review:
				na++
				rv++
			default:
				na++ // error or missing: not allowed
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m, pct(na, n), pct(bl, n), pct(rv, n))
	}
	tw.Flush()
	// Per cause: designs held by each (analyzer, rule, source) anywhere.
	type key struct{ analyzer, rule, source string }
	byCause := map[key]map[string]bool{}
	for _, r := range rs {
		for _, c := range r.Causes {
			k := key{c.Analyzer, c.Rule, c.Source}
			if byCause[k] == nil {
				byCause[k] = map[string]bool{}
			}
			byCause[k][r.Name] = true
		}
	}
	keys := make([]key, 0, len(byCause))
	for k := range byCause {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(byCause[keys[i]]) > len(byCause[keys[j]]) })
	if len(keys) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "analyzer\trule\tsource\tdesigns held (any market)")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.analyzer, k.rule, or(k.source, "-"), pct(len(byCause[k]), n))
		}
		tw.Flush()
	}
	// Per kind and per ground: where the false flags come from.
	for _, dim := range []struct {
		name string
		f    func(Result) string
	}{{"kind", func(r Result) string { return r.Kind }}, {"ground", func(r Result) string { return r.Ground }},
		{"format", func(r Result) string { return strings.SplitN(r.Format, "-", 2)[0] }},
		{"size", func(r Result) string {
			if r.Big {
				return "print file"
			}
			return "other"
		}}} {
		tot, bad := map[string]int{}, map[string]int{}
		for _, r := range rs {
			tot[dim.f(r)]++
			if r.NotAllowed() {
				bad[dim.f(r)]++
			}
		}
		var ks []string
		for k := range tot {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		var parts []string
		for _, k := range ks {
			parts = append(parts, fmt.Sprintf("%s %d/%d", k, bad[k], tot[k]))
		}
		fmt.Fprintf(w, "held by %s: %s\n", dim.name, strings.Join(parts, ", "))
	}
}

// Flagged lists the designs held, with their causes.
func Flagged(w io.Writer, results []Result) {
	for _, r := range results {
		if !r.NotAllowed() {
			continue
		}
		fmt.Fprintf(w, "[%s] %s\n", r.Split, r.Desc)
		if r.Err != "" {
			fmt.Fprintf(w, "    error: %s\n", r.Err)
		}
		seen := map[string]bool{}
		for _, c := range r.Causes {
			k := c.Rule + c.Source + c.Label
			if seen[k] {
				continue
			}
			seen[k] = true
			box := ""
			if c.Box != nil {
				box = fmt.Sprintf(" box %d,%d %dx%d", c.Box.X, c.Box.Y, c.Box.W, c.Box.H)
			}
			fmt.Fprintf(w, "    %s %s by %s (%s %s %.3f%s)\n", c.Outcome, c.Rule, c.Analyzer, c.Source, c.Label, c.Score, box)
		}
		if r.NSFW != nil {
			p := r.NSFW.Probabilities
			fmt.Fprintf(w, "    nsfw whole image: drawing %.3f hentai %.3f neutral %.3f porn %.3f sexy %.3f\n", p.Drawing, p.Hentai, p.Neutral, p.Porn, p.Sexy)
		}
	}
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
