package logos2gen

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/muster-dev/muster/internal/imaging"
)

// Found is one finding a detector reports.
type Found struct {
	Key string
	Box image.Rectangle // design pixels
	// Occluded: the detector scored part of the region as hidden (listed
	// with misses and false flags; not scored).
	Occluded bool
	// Detail is what the detector says of the finding (its score…), listed
	// with misses and false flags; not scored.
	Detail string
}

// Detector inspects one decoded design.
type Detector func(ctx context.Context, img *imaging.Image) ([]Found, error)

// Tally counts outcomes.
type Tally struct {
	N    int `json:"n"`
	Hits int `json:"hits"`
}

func (t *Tally) add(hit bool) {
	t.N++
	if hit {
		t.Hits++
	}
}

// Wilson returns the Wilson score 95 % interval of Hits/N.
func (t Tally) Wilson() (lo, hi float64) {
	if t.N == 0 {
		return 0, 1
	}
	const z = 1.959964
	n, p := float64(t.N), float64(t.Hits)/float64(t.N)
	d := 1 + z*z/n
	c := (p + z*z/(2*n)) / d
	h := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / d
	return math.Max(0, c-h), math.Min(1, c+h)
}

// String is "hits/n = p % [lo, hi]".
func (t Tally) String() string {
	if t.N == 0 {
		return "0/0"
	}
	lo, hi := t.Wilson()
	return fmt.Sprintf("%d/%d = %.1f%% [%.1f, %.1f]", t.Hits, t.N, 100*float64(t.Hits)/float64(t.N), 100*lo, 100*hi)
}

// BoxOK reports whether a reported box locates the truth: IoU ≥ 0.3, or the
// reported box's centre inside the true box.
func BoxOK(got, truth image.Rectangle) bool {
	c := got.Min.Add(got.Size().Div(2))
	if c.In(truth) {
		return true
	}
	in := got.Intersect(truth)
	if in.Empty() {
		return false
	}
	ia := float64(in.Dx() * in.Dy())
	ua := float64(got.Dx()*got.Dy()+truth.Dx()*truth.Dy()) - ia
	return ia/ua >= 0.3
}

// Report is the outcome of a run over one or more seeds.
type Report struct {
	Recall      map[string]*Tally `json:"recall"`        // own, other, and other:<set>
	RecallBy    map[string]*Tally `json:"recall_by"`     // dimension:value (own and other pooled)
	Flagged     map[string]*Tally `json:"flagged"`       // free, heldout, free:<set>, heldout:<set>
	FlaggedBy   map[string]*Tally `json:"flagged_by"`    // dimension:value (free and heldout pooled)
	Precision   Tally             `json:"precision"`     // findings on logo designs that are right (entry and place)
	WrongExtra  Tally             `json:"wrong_extra"`   // logo designs with any wrong finding
	WrongPlace  int               `json:"wrong_place"`   // right entry reported elsewhere
	MSPerDesign map[string]Timing `json:"ms_per_design"` // by canvas size, wall clock
	// CPUMSPerDesign is the process CPU time of each detection, by canvas
	// size: with GOMAXPROCS=1 it is the time on one core, which a loaded
	// machine stretches on the wall clock but not here.
	CPUMSPerDesign map[string]Timing `json:"cpu_ms_per_design"`
	// MissCause counts missed logo designs by their first cause, in the
	// order of MissCause's doc (missCause).
	MissCause  map[string]int `json:"miss_cause"`
	Misses     []string       `json:"misses,omitempty"`
	FalseFlags []string       `json:"false_flags,omitempty"`
	// Findings lists every finding with its outcome (right, wrong-place,
	// wrong, flag) and the detector's detail (development seeds, -v).
	Findings     []string `json:"findings,omitempty"`
	Designs      int      `json:"designs"`
	GenerateSecs float64  `json:"generate_secs"`
	times        map[string][]float64
	cpu          map[string][]float64
}

// Timing summarises detector milliseconds.
type Timing struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Max  float64 `json:"max"`
}

// NewReport returns an empty report (Run adds to it, so seeds pool).
func NewReport() *Report {
	return &Report{Recall: map[string]*Tally{}, RecallBy: map[string]*Tally{}, Flagged: map[string]*Tally{},
		FlaggedBy: map[string]*Tally{}, MissCause: map[string]int{}, MSPerDesign: map[string]Timing{}, times: map[string][]float64{},
		CPUMSPerDesign: map[string]Timing{}, cpu: map[string][]float64{}}
}

func bump(m map[string]*Tally, k string, hit bool) {
	t := m[k]
	if t == nil {
		t = &Tally{}
		m[k] = t
	}
	t.add(hit)
}

func rotBand(a float64) string {
	switch a = math.Abs(a); {
	case a == 0:
		return "0"
	case a <= 10:
		return "1-10"
	case a <= 20:
		return "10-20"
	}
	return "20-30"
}

// dims are a sample's slices reported.
func dims(s *Sample) [][2]string {
	persp := "no"
	if s.Persp > 0 {
		persp = "yes"
	}
	dist := "no"
	if s.Distressed {
		dist = "yes"
	}
	return [][2]string{{"scale", Band(s.Scale)}, {"style", s.Style}, {"background", s.Background}, {"occlusion", s.Occlusion},
		{"rotation", rotBand(s.Angle)}, {"perspective", persp}, {"distressed", dist}, {"format", s.Format}}
}

// Run generates every sample of g, decodes it through imaging.Decode, runs
// the detector and adds the outcome to r. With details, misses and false
// flags are listed (never on test seeds).
func (r *Report) Run(ctx context.Context, g *Generator, detect Detector, details bool, only string, progress io.Writer) error {
	for i := 0; i < g.Len(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if only != "" && g.kind(i) != only {
			continue
		}
		t0 := time.Now()
		s, err := g.Sample(i)
		if err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
		r.GenerateSecs += time.Since(t0).Seconds()
		img, err := imaging.Decode(s.Data, s.Format, imaging.Limits{})
		if err != nil {
			return fmt.Errorf("sample %d: decode: %w", i, err)
		}
		c1 := processCPU()
		t1 := time.Now()
		found, err := detect(ctx, img)
		if err != nil {
			return fmt.Errorf("sample %d: detect: %w", i, err)
		}
		el := float64(time.Since(t1).Microseconds()) / 1000
		cpu := float64((processCPU() - c1).Microseconds()) / 1000
		size := fmt.Sprintf("%dx%d", s.Width, s.Height)
		r.times[size] = append(r.times[size], el)
		r.cpu[size] = append(r.cpu[size], cpu)
		r.Designs++
		if details {
			for _, f := range found {
				outcome := "flag"
				switch {
				case !s.Positive():
				case f.Key == s.Slug && BoxOK(f.Box, s.Box):
					outcome = "right"
				case f.Key == s.Slug:
					outcome = "wrong-place"
				default:
					outcome = "wrong"
				}
				r.Findings = append(r.Findings, fmt.Sprintf("#%d %s %s/%s %s key=%s box=%v scale=%.2f style=%s bg=%s occl=%s %s", i, s.Kind, s.Set, s.Icon, outcome, f.Key, f.Box, s.Scale, s.Style, s.Background, s.Occlusion, f.Detail))
			}
		}
		if s.Positive() {
			hit, wrong := false, 0
			for _, f := range found {
				switch {
				case f.Key == s.Slug && BoxOK(f.Box, s.Box):
					if !hit {
						r.Precision.add(true)
					}
					hit = true
				case f.Key == s.Slug:
					r.WrongPlace++
					wrong++
					r.Precision.add(false)
				default:
					wrong++
					r.Precision.add(false)
				}
			}
			r.WrongExtra.add(wrong > 0)
			if !hit {
				r.MissCause[missCause(&s)]++
			}
			bump(r.Recall, s.Kind, hit)
			if s.Kind == KindOther {
				bump(r.Recall, "other:"+s.Set, hit)
				if IsHeldOutArtistSet(s.Set) {
					bump(r.Recall, "other:held-out sets", hit)
				} else {
					bump(r.Recall, "other:dev sets", hit)
				}
			}
			for _, d := range dims(&s) {
				bump(r.RecallBy, d[0]+":"+d[1], hit)
			}
			if details && (!hit || wrong > 0) {
				r.Misses = append(r.Misses, fmt.Sprintf("#%d %s %s/%s (%s) box=%v scale=%.2f angle=%.1f persp=%.2f style=%s distressed=%v bg=%s occl=%s %s %s hit=%v found=%v",
					i, s.Kind, s.Set, s.Icon, s.Slug, s.Box, s.Scale, s.Angle, s.Persp, s.Style, s.Distressed, s.Background, s.Occlusion, s.Format, size, hit, found))
			}
		} else {
			flagged := len(found) > 0
			bump(r.Flagged, s.Kind, flagged)
			bump(r.Flagged, s.Kind+":"+s.Set, flagged)
			for _, d := range dims(&s) {
				bump(r.FlaggedBy, d[0]+":"+d[1], flagged)
			}
			if details && flagged {
				r.FalseFlags = append(r.FalseFlags, fmt.Sprintf("#%d %s %s/%s (%s) scale=%.2f style=%s bg=%s occl=%s %s found=%v",
					i, s.Kind, s.Set, s.Icon, s.Slug, s.Scale, s.Style, s.Background, s.Occlusion, size, found))
			}
		}
		if progress != nil && (i+1)%50 == 0 {
			fmt.Fprintf(progress, "eval-logos2: %d/%d designs; own %v; other %v; free flagged %v\n", i+1, g.Len(), r.Recall[KindOwn], r.Recall[KindOther], r.Flagged[KindFree])
		}
	}
	r.summarise()
	return nil
}

// missCause names the first of these that applies to a missed logo
// design: the logo under 12 % of the canvas, turned more than 10°,
// occluded (text across it, art over its edge), drawn as an outline, in
// perspective, distressed; else "none of these".
func missCause(s *Sample) string {
	switch {
	case s.Scale < 0.12:
		return "1 logo < 12% of the canvas"
	case math.Abs(s.Angle) > 10:
		return "2 turned > 10°"
	case s.Occlusion == "text" || s.Occlusion == "art":
		return "3 occluded (" + s.Occlusion + ")"
	case strings.HasPrefix(s.Style, "outline"):
		return "4 outline style"
	case s.Persp > 0:
		return "5 perspective"
	case s.Distressed:
		return "6 distressed"
	}
	return "7 none of these"
}

// Merge adds o's counts to r (pooling seeds).
func (r *Report) Merge(o *Report) {
	add := func(dst, src map[string]*Tally) {
		for k, t := range src {
			d := dst[k]
			if d == nil {
				d = &Tally{}
				dst[k] = d
			}
			d.N += t.N
			d.Hits += t.Hits
		}
	}
	add(r.Recall, o.Recall)
	add(r.RecallBy, o.RecallBy)
	add(r.Flagged, o.Flagged)
	add(r.FlaggedBy, o.FlaggedBy)
	r.Precision.N += o.Precision.N
	r.Precision.Hits += o.Precision.Hits
	r.WrongExtra.N += o.WrongExtra.N
	r.WrongExtra.Hits += o.WrongExtra.Hits
	r.WrongPlace += o.WrongPlace
	for k, v := range o.MissCause {
		r.MissCause[k] += v
	}
	r.Designs += o.Designs
	r.GenerateSecs += o.GenerateSecs
	for k, v := range o.times {
		r.times[k] = append(r.times[k], v...)
	}
	for k, v := range o.cpu {
		r.cpu[k] = append(r.cpu[k], v...)
	}
	r.summarise()
}

func (r *Report) summarise() {
	sum := func(dst map[string]Timing, src map[string][]float64) {
		for k, all := range src {
			sort.Float64s(all)
			var total float64
			for _, v := range all {
				total += v
			}
			n := len(all)
			dst[k] = Timing{N: n, Mean: total / float64(n), P50: all[n/2], P95: all[min(n-1, n*95/100)], Max: all[n-1]}
		}
	}
	sum(r.MSPerDesign, r.times)
	sum(r.CPUMSPerDesign, r.cpu)
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Print writes the headline figures and the slices.
func (r *Report) Print(w io.Writer) {
	get := func(m map[string]*Tally, k string) Tally {
		if t := m[k]; t != nil {
			return *t
		}
		return Tally{}
	}
	fmt.Fprintf(w, "recall, bank's own artwork:        %v\n", get(r.Recall, KindOwn))
	fmt.Fprintf(w, "recall, other artists:             %v\n", get(r.Recall, KindOther))
	fmt.Fprintf(w, "precision of findings on logo designs: %v (right entry in the right place / all findings; %d right entry elsewhere)\n", r.Precision, r.WrongPlace)
	fmt.Fprintf(w, "logo designs with a wrong finding: %v\n", r.WrongExtra)
	fmt.Fprintf(w, "brand-free designs flagged:        %v\n", get(r.Flagged, KindFree))
	fmt.Fprintf(w, "held-out brand designs flagged:    %v\n", get(r.Flagged, KindHeldOut))
	table := func(title string, m map[string]*Tally) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "%s:\n", title)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-26s %v\n", k, *m[k])
		}
	}
	table("recall by kind and artist set", r.Recall)
	table("recall by slice (own + other)", r.RecallBy)
	causes := make([]string, 0, len(r.MissCause))
	for k := range r.MissCause {
		causes = append(causes, k)
	}
	sort.Strings(causes)
	fmt.Fprintln(w, "missed logo designs by first cause:")
	for _, k := range causes {
		fmt.Fprintf(w, "  %-30s %d\n", k[2:], r.MissCause[k])
	}
	table("flagged by kind and set", r.Flagged)
	table("flagged by slice (free + heldout)", r.FlaggedBy)
	timings := func(title string, m map[string]Timing) {
		fmt.Fprintln(w, title)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t := m[k]
			fmt.Fprintf(w, "  %-10s n=%-4d mean %.0f  p50 %.0f  p95 %.0f  max %.0f\n", k, t.N, t.Mean, t.P50, t.P95, t.Max)
		}
	}
	timings("detector ms per design, wall clock (GOMAXPROCS=1 unless -procs):", r.MSPerDesign)
	timings("detector CPU ms per design (process CPU time; with GOMAXPROCS=1 the time on one core, whatever the machine's load):", r.CPUMSPerDesign)
}
