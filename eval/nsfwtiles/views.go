package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/eval/benign/benigngen"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/internal/testimages"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/preprocess"
)

// viewRec is one design's whole-image views: nsfwjs's own (the parity
// input the rules read today), MobileNetV2 on the design area-averaged to
// its input (no aliasing), MobileNetV2 on the area-averaged centre square,
// and InceptionV3 on the area-averaged design.
type viewRec struct {
	Name   string  `json:"name"`
	Seed   uint64  `json:"seed"`
	Kind   string  `json:"kind"` // harmless, or motif
	Desc   string  `json:"desc"`
	Ground string  `json:"ground"`
	W      int     `json:"w"`
	H      int     `json:"h"`
	Motif  uint64  `json:"motif,omitempty"`
	Frac   float64 `json:"frac,omitempty"` // motif side / short side
	Both   bool    `json:"both,omitempty"` // a motif both models call explicit at full frame
	NSFWJS P       `json:"nsfwjs"`
	Area   P       `json:"area"`
	Centre P       `json:"centre"`
	Inc    P       `json:"inc"`
}

// viewFracs are the motif sizes (side / short side) pasted, centred, on
// every design for the whole-image sensitivity: the element fills most of
// the design (0.85), a large part (0.6), or less than half (0.45: about
// where the tiles, 0.3 of the short side, stop seeing all of it).
var viewFracs = []float64{0.85, 0.6, 0.45}

// views measures the whole-image views on the development seeds' harmless
// designs (the full generator: print files, every ground and format) and
// on every motifEvery-th of the same designs with a motif centred at each
// of viewFracs (motif seeds from both lists in turn). Development seeds
// only.
func views(ctx context.Context, stderr io.Writer, seeds []uint64, n, motifEvery int, out string) error {
	for _, s := range seeds {
		if s >= 1000 {
			return fmt.Errorf("-views: seed %d is not a development seed", s)
		}
	}
	env, err := modeltest.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Runtime.Close()
	mob, err := models.NewClassifier(env.Runtime, filepath.Join(env.Install.ModelsDir, models.NSFWModel), models.SessionConfig{Sessions: 1})
	if err != nil {
		return err
	}
	defer mob.Close()
	inc, err := models.NewClassifier(env.Runtime, filepath.Join(env.Install.ModelsDir, models.NSFWModelInception), models.SessionConfig{Sessions: 1})
	if err != nil {
		return err
	}
	defer inc.Close()
	cache, _ := filepath.Abs(npmfetch.DefaultCacheDir(os.Getenv))
	src, err := benigngen.LoadSources(ctx, cache, benigngen.SourceOptions{SystemFonts: true})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	motifs := append(slices.Clone(bothModels), mobileOnly...)
	start := time.Now()
	k := 0
	for _, seed := range seeds {
		g, err := benigngen.NewGenerator(benigngen.Config{Seed: seed}, src)
		if err != nil {
			return err
		}
		for i := 0; i < n && ctx.Err() == nil; i++ {
			smp, err := g.Sample(i)
			if err != nil {
				return err
			}
			im, err := imaging.Decode(smp.Data, "", imaging.Limits{MaxBytes: 128 << 20})
			if err != nil {
				return fmt.Errorf("%s: %w", smp.Name, err)
			}
			base := viewRec{Name: smp.Name, Seed: seed, Kind: "harmless", Desc: smp.Describe(), Ground: smp.Background, W: smp.Width, H: smp.Height}
			r, err := wholeViews(ctx, mob, inc, im, base)
			if err != nil {
				return err
			}
			if err := enc.Encode(r); err != nil {
				return err
			}
			var flat *image.NRGBA
			if im.HasAlpha {
				fl := im.Flatten(color.White)
				flat = &image.NRGBA{Pix: fl.Pix, Stride: fl.Stride, Rect: fl.Rect}
			} else {
				flat = im.NRGBA
			}
			for _, frac := range viewFracs {
				if i%max(1, motifEvery) != 0 {
					break
				}
				p := &image.NRGBA{Pix: slices.Clone(flat.Pix), Stride: flat.Stride, Rect: flat.Rect}
				b := p.Rect
				side := int(float64(min(b.Dx(), b.Dy())) * frac)
				c := b.Min.Add(b.Size().Div(2))
				m := motifs[k%len(motifs)]
				k++
				testimages.SkinMotifSeed(p, image.Rect(c.X-side/2, c.Y-side/2, c.X-side/2+side, c.Y-side/2+side), 19, m)
				mr := base
				mr.Kind, mr.Motif, mr.Frac, mr.Both = "motif", m, frac, slices.Contains(bothModels, m)
				r, err := wholeViews(ctx, mob, inc, &imaging.Image{NRGBA: p, Orientation: 1}, mr)
				if err != nil {
					return err
				}
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
			if (i+1)%10 == 0 {
				fmt.Fprintf(stderr, "seed %d: %d/%d (%s)\n", seed, i+1, n, time.Since(start).Round(time.Second))
			}
		}
	}
	return ctx.Err()
}

// wholeViews classifies one design four ways (see viewRec).
func wholeViews(ctx context.Context, mob, inc *models.Classifier, im *imaging.Image, r viewRec) (viewRec, error) {
	pp := mob.Manifest().Preprocessing
	src := preprocess.NewSource(im, color.White)
	b := src.Bounds()
	whole := make([]float32, pp.Width*pp.Height*3)
	if err := src.Whole(whole, pp.Width, pp.Height, pp.AlignCorners); err != nil {
		return r, err
	}
	area, err := areaInput(src, b, pp.Width, pp.Height)
	if err != nil {
		return r, err
	}
	s := min(b.Dx(), b.Dy())
	cb := image.Rect((b.Dx()-s)/2, (b.Dy()-s)/2, (b.Dx()-s)/2+s, (b.Dy()-s)/2+s)
	centre, err := areaInput(src, cb, pp.Width, pp.Height)
	if err != nil {
		return r, err
	}
	out, err := mob.Classify(ctx, whole, area, centre)
	if err != nil {
		return r, err
	}
	r.NSFWJS, r.Area, r.Centre = toP(out[0]), toP(out[1]), toP(out[2])
	ip := inc.Manifest().Preprocessing
	in, err := areaInput(src, b, ip.Width, ip.Height)
	if err != nil {
		return r, err
	}
	iout, err := inc.Classify(ctx, in)
	if err != nil {
		return r, err
	}
	r.Inc = toP(iout[0])
	return r, nil
}

// areaInput is the rectangle r of the design averaged over blocks of
// ⌊short side / input⌋ pixels, then area-resized to w×h (as the tiles and
// the verifier's inputs are cut).
func areaInput(src preprocess.Source, r image.Rectangle, w, h int) ([]float32, error) {
	k := max(1, min(r.Dx(), r.Dy())/w)
	br := image.Rect(r.Min.X/k, r.Min.Y/k, (r.Max.X+k-1)/k, (r.Max.Y+k-1)/k)
	d := src.Bounds()
	br = br.Intersect(image.Rect(0, 0, (d.Dx()+k-1)/k, (d.Dy()+k-1)/k))
	small := src.BoxDownscale(k, br)
	in := make([]float32, w*h*3)
	if err := preprocess.ResizeArea(in, small, image.Rect(0, 0, small.Width, small.Height), w, h); err != nil {
		return nil, err
	}
	return in, nil
}

func loadViews(paths string) ([]viewRec, error) {
	var out []viewRec
	for _, path := range strings.Split(paths, ",") {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var r viewRec
			if err := dec.Decode(&r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// viewRule turns a design's views into the whole image's explicit and
// suggestive scores the rules would read.
type viewRule struct {
	name string
	f    func(r viewRec) (e, s float64)
}

func gmean(a, b float64) float64 { return math.Sqrt(a * b) }

// viewRules are the candidate whole-image decisions.
func viewRules() []viewRule {
	raw := func(p P) (float64, float64) { return p.explicit(), p.sexy() }
	checked := func(second func(viewRec) P, comb func(a, b float64) float64, floor float64) func(viewRec) (float64, float64) {
		return func(r viewRec) (float64, float64) {
			e, s := raw(r.NSFWJS)
			if math.Max(e, s) < floor {
				return e, s
			}
			e2, s2 := raw(second(r))
			return comb(e, e2), comb(s, s2)
		}
	}
	// band: each unsafe score in [0.25, hi) is replaced by its geometric
	// mean with InceptionV3's; scores from hi up stand as nsfwjs gave them.
	band := func(hi float64) func(viewRec) (float64, float64) {
		return func(r viewRec) (float64, float64) {
			e, s := raw(r.NSFWJS)
			ie, is := raw(r.Inc)
			if e >= 0.25 && e < hi {
				e = gmean(e, ie)
			}
			if s >= 0.25 && s < hi {
				s = gmean(s, is)
			}
			return e, s
		}
	}
	area := func(r viewRec) P { return r.Area }
	centre := func(r viewRec) P { return r.Centre }
	inc := func(r viewRec) P { return r.Inc }
	return []viewRule{
		{"nsfwjs (today)", func(r viewRec) (float64, float64) { return raw(r.NSFWJS) }},
		{"area view alone", func(r viewRec) (float64, float64) { return raw(r.Area) }},
		{"min(nsfwjs, area)", checked(area, math.Min, 0)},
		{"gmean(nsfwjs, area)", checked(area, gmean, 0.25)},
		{"min(nsfwjs, centre)", checked(centre, math.Min, 0)},
		{"gmean(nsfwjs, InceptionV3)", checked(inc, gmean, 0.25)},
		{"min(nsfwjs, area, centre)", func(r viewRec) (float64, float64) {
			e, s := raw(r.NSFWJS)
			e2, s2 := raw(r.Area)
			e3, s3 := raw(r.Centre)
			return math.Min(e, math.Min(e2, e3)), math.Min(s, math.Min(s2, s3))
		}},
		{"InceptionV3 in band [0.25, 0.5)", band(0.5)},
		{"InceptionV3 in band [0.25, 0.6)", band(0.6)},
		{"InceptionV3 in band [0.25, 0.7)", band(0.7)},
		{"InceptionV3 in band [0.25, 0.85)", band(0.85)},
		{"min(nsfwjs, area), then gmean InceptionV3 below 0.5", func(r viewRec) (float64, float64) {
			e, s := raw(r.NSFWJS)
			e2, s2 := raw(r.Area)
			e, s = math.Min(e, e2), math.Min(s, s2)
			ie, is := raw(r.Inc)
			if e >= 0.25 && e < 0.5 {
				e = gmean(e, ie)
			}
			if s >= 0.25 && s < 0.5 {
				s = gmean(s, is)
			}
			return e, s
		}},
	}
}

// viewsTable prints, per candidate rule, the harmless designs held and
// blocked (whole image only; thresholds of the default pack) and the
// motifs caught at review (explicit ≥ 0.5 general, ≥ 0.25 SA/AE) per
// motif size and list.
func viewsTable(w io.Writer, recs []viewRec, verbose bool) error {
	var harmless, motifs []viewRec
	for _, r := range recs {
		if r.Kind == "harmless" {
			harmless = append(harmless, r)
		} else {
			motifs = append(motifs, r)
		}
	}
	fmt.Fprintf(w, "%d harmless designs, %d motif designs\n", len(harmless), len(motifs))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	hdr := "rule\tharmless held general\theld SA/AE\tblocked general\tblocked SA/AE\tmotifs ≥0.5 both\tmobile-only\tmotifs SA/AE review both\tmobile-only"
	for _, f := range viewFracs {
		hdr += fmt.Sprintf("\tmotif %.2f both\tmotif %.2f mobile-only", f, f)
	}
	fmt.Fprintln(tw, hdr)
	for _, v := range viewRules() {
		var h held
		for _, r := range harmless {
			h.add(v.f(r))
		}
		line := v.name + "\t" + h.shares(len(harmless))
		for _, strict := range []bool{false, true} {
			for _, both := range []bool{true, false} {
				c, t := 0, 0
				for _, r := range motifs {
					if r.Both != both {
						continue
					}
					t++
					e, s := v.f(r)
					if e >= 0.5 || (strict && (e >= 0.25 || s >= 0.5)) {
						c++
					}
				}
				line += "\t" + share(c, t)
			}
		}
		for _, f := range viewFracs {
			for _, both := range []bool{true, false} {
				c, t := 0, 0
				for _, r := range motifs {
					if r.Frac != f || r.Both != both {
						continue
					}
					t++
					if e, _ := v.f(r); e >= 0.5 {
						c++
					}
				}
				line += "\t" + share(c, t)
			}
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !verbose {
		return nil
	}
	// The harmless designs today's whole image holds anywhere, and the
	// motifs any rule loses, with every view.
	fmt.Fprintln(w, "\nharmless designs held by nsfwjs's whole image (SA/AE review or more):")
	hs := slices.Clone(harmless)
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].NSFWJS.explicit() > hs[j].NSFWJS.explicit() })
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "design\tnsfwjs d/h/n/p/s\tarea d/h/n/p/s\tcentre d/h/n/p/s\tinc d/h/n/p/s\tdesc")
	for _, r := range hs {
		if r.NSFWJS.explicit() < 0.25 && r.NSFWJS.sexy() < 0.5 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, pstr(r.NSFWJS), pstr(r.Area), pstr(r.Centre), pstr(r.Inc), r.Desc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nmotifs nsfwjs catches (explicit ≥ 0.5) whose area view is below 0.5:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range motifs {
		if r.NSFWJS.explicit() >= 0.5 && r.Area.explicit() < 0.5 {
			fmt.Fprintf(tw, "%s\tmotif %d at %.2f\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Motif, r.Frac, pstr(r.NSFWJS), pstr(r.Area), pstr(r.Centre), pstr(r.Inc), r.Desc)
		}
	}
	return tw.Flush()
}

func pstr(p P) string {
	return fmt.Sprintf("%.2f/%.2f/%.2f/%.2f/%.2f", p[0], p[1], p[2], p[3], p[4])
}
