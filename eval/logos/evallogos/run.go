package evallogos

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/muster-dev/muster/internal/imaging"
)

// Detection is what a detector reports for one design.
type Detection struct {
	// EntryIDs are the trademark entries found.
	EntryIDs []string
	// Flagged is true when the design has any finding at all.
	Flagged bool
}

// Detector inspects one decoded design.
type Detector func(ctx context.Context, img *imaging.Image) (Detection, error)

// Tally counts outcomes in one slice of the set.
type Tally struct {
	N    int `json:"n"`
	Hits int `json:"hits"` // positives: right entry found; negatives: flagged
}

// Rate is Hits/N.
func (t Tally) Rate() float64 {
	if t.N == 0 {
		return 0
	}
	return float64(t.Hits) / float64(t.N)
}

// Report is the outcome of a run.
type Report struct {
	Positives    Tally             `json:"positives"`
	Negatives    Tally             `json:"negatives"`
	RecallBand   map[string]Tally  `json:"recall_by_band"`
	RecallBg     map[string]Tally  `json:"recall_by_background"`
	RecallRot    map[string]Tally  `json:"recall_by_rotation"`
	RecallFormat map[string]Tally  `json:"recall_by_format"`
	FlaggedBand  map[string]Tally  `json:"flagged_by_band"`
	FlaggedBg    map[string]Tally  `json:"flagged_by_background"`
	MSPerDesign  map[string]Timing `json:"ms_per_design"` // by canvas size
	Misses       []string          `json:"misses"`
	FalseFlags   []string          `json:"false_flags"`
}

// Timing summarises detector milliseconds.
type Timing struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Max  float64 `json:"max"`
	all  []float64
}

// Band names a logo scale (longer side / canvas shorter side).
func Band(scale float64) string {
	switch {
	case scale < 0.35:
		return "20-35%"
	case scale < 0.5:
		return "35-50%"
	default:
		return "50-70%"
	}
}

// Run generates every sample, decodes it through imaging.Decode, runs the
// detector and tallies the outcome; progress lines go to progress (may be nil).
func Run(ctx context.Context, g *Generator, detect Detector, progress io.Writer) (*Report, error) {
	r := &Report{
		RecallBand: map[string]Tally{}, RecallBg: map[string]Tally{}, RecallRot: map[string]Tally{},
		RecallFormat: map[string]Tally{}, FlaggedBand: map[string]Tally{}, FlaggedBg: map[string]Tally{},
		MSPerDesign: map[string]Timing{},
	}
	bump := func(m map[string]Tally, k string, hit bool) {
		t := m[k]
		t.N++
		if hit {
			t.Hits++
		}
		m[k] = t
	}
	for i := 0; i < g.Len(); i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := g.Sample(i)
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", i, err)
		}
		img, err := imaging.Decode(s.Data, s.Format, imaging.Limits{})
		if err != nil {
			return nil, fmt.Errorf("sample %d: decode: %w", i, err)
		}
		t0 := time.Now()
		det, err := detect(ctx, img)
		if err != nil {
			return nil, fmt.Errorf("sample %d: detect: %w", i, err)
		}
		el := float64(time.Since(t0).Microseconds()) / 1000
		size := fmt.Sprintf("%dx%d", s.Width, s.Height)
		tm := r.MSPerDesign[size]
		tm.all = append(tm.all, el)
		r.MSPerDesign[size] = tm
		band := Band(s.Scale)
		if s.Positive {
			hit := slices.Contains(det.EntryIDs, s.Slug)
			r.Positives.N++
			if hit {
				r.Positives.Hits++
			} else {
				r.Misses = append(r.Misses, fmt.Sprintf("#%d %s %s %s angle=%.1f scale=%.2f %s found=%v", i, s.Slug, size, s.Background, s.Angle, s.Scale, s.Format, det.EntryIDs))
			}
			bump(r.RecallBand, band, hit)
			bump(r.RecallBg, s.Background, hit)
			rot := "upright"
			if s.Angle != 0 {
				rot = "rotated"
			}
			bump(r.RecallRot, rot, hit)
			bump(r.RecallFormat, s.Format, hit)
		} else {
			r.Negatives.N++
			if det.Flagged {
				r.Negatives.Hits++
				r.FalseFlags = append(r.FalseFlags, fmt.Sprintf("#%d main=%v %s %s found=%v", i, s.Distractors, size, s.Background, det.EntryIDs))
			}
			bump(r.FlaggedBand, band, det.Flagged)
			bump(r.FlaggedBg, s.Background, det.Flagged)
		}
		if progress != nil && (i+1)%20 == 0 {
			fmt.Fprintf(progress, "eval-logos: %d/%d designs, recall %d/%d, flagged %d/%d\n", i+1, g.Len(), r.Positives.Hits, r.Positives.N, r.Negatives.Hits, r.Negatives.N)
		}
	}
	for k, tm := range r.MSPerDesign {
		sort.Float64s(tm.all)
		tm.N = len(tm.all)
		var sum float64
		for _, v := range tm.all {
			sum += v
		}
		tm.Mean = sum / float64(tm.N)
		tm.P50 = tm.all[tm.N/2]
		tm.P95 = tm.all[min(tm.N-1, tm.N*95/100)]
		tm.Max = tm.all[tm.N-1]
		r.MSPerDesign[k] = tm
	}
	return r, nil
}

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "recall (right entry found): %d/%d = %.1f%%\n", r.Positives.Hits, r.Positives.N, 100*r.Positives.Rate())
	fmt.Fprintf(w, "brand-free designs flagged: %d/%d = %.1f%%\n", r.Negatives.Hits, r.Negatives.N, 100*r.Negatives.Rate())
	table := func(title string, m map[string]Tally) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "%s:\n", title)
		for _, k := range keys {
			t := m[k]
			fmt.Fprintf(w, "  %-12s %4d/%-4d %6.1f%%\n", k, t.Hits, t.N, 100*t.Rate())
		}
	}
	table("recall by scale band", r.RecallBand)
	table("recall by background", r.RecallBg)
	table("recall by rotation", r.RecallRot)
	table("recall by format", r.RecallFormat)
	table("flagged (brand-free) by scale band of the main art", r.FlaggedBand)
	table("flagged (brand-free) by background", r.FlaggedBg)
	fmt.Fprintln(w, "detector ms per design (one core):")
	keys := make([]string, 0, len(r.MSPerDesign))
	for k := range r.MSPerDesign {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := r.MSPerDesign[k]
		fmt.Fprintf(w, "  %-10s n=%-4d mean %.0f  p50 %.0f  p95 %.0f  max %.0f\n", k, t.N, t.Mean, t.P50, t.P95, t.Max)
	}
}
