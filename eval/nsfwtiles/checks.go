package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/testimages"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/preprocess"
)

// checkRec is one analysis of the -checks run: the analyzer's result with
// every candidate tile checked (MaxVerify = MaxTiles) and InceptionV3's
// probabilities of the whole design, so the outcome under any verify cap
// and with or without a whole-image second opinion is computed from one
// run.
type checkRec struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"` // harmless, tile-motif, whole-motif
	Motif uint64 `json:"motif,omitempty"`
	// Result is the analyzer's (tile floors off, every candidate tile checked).
	Result nsfw.Result `json:"result"`
	// WholeInception is InceptionV3 on the whole design, area-averaged to 299².
	WholeInception nsfw.Probabilities `json:"whole_inception"`
}

// checks measures, on development seed designs (CI sizes), three things
// per design: the design as generated (harmless), the design with a motif
// both models call explicit centred in a random tile at 85 % of its side
// (what tiles exist for), and the design with a motif from either list at
// 85 % of its short side, centred (what the whole image catches). It
// writes the records to out and prints the table of variants.
func checks(ctx context.Context, w io.Writer, seed uint64, n int, out string) error {
	env, err := modeltest.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Runtime.Close()
	cfg := nsfw.Config{ModelsDir: env.Install.ModelsDir}
	cfg.TileFloors = nsfw.TileFloors{SexualExplicit: -1, SexualSuggestive: -1}
	cfg.Tiling.MaxVerify = 48
	a, err := nsfw.New(env.Runtime, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	inc, err := models.NewClassifier(env.Runtime, filepath.Join(env.Install.ModelsDir, models.NSFWModelInception), models.SessionConfig{Sessions: 1})
	if err != nil {
		return err
	}
	defer inc.Close()
	g, err := calibGenerator(ctx, seed)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	rng := rand.New(rand.NewPCG(seed, 99))
	wholeMotifs := append(slices.Clone(bothModels), mobileOnly...)
	var recs []checkRec
	analyse := func(i int, kind string, motif uint64, im *imaging.Image) error {
		r, err := a.Analyze(ctx, &analyzers.Design{Image: im})
		if err != nil {
			return err
		}
		wi, err := wholeInception(ctx, inc, im)
		if err != nil {
			return err
		}
		rec := checkRec{Index: i, Kind: kind, Motif: motif, Result: r.Data.(nsfw.Result), WholeInception: wi}
		recs = append(recs, rec)
		return enc.Encode(rec)
	}
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		smp, err := g.Sample(i)
		if err != nil {
			return err
		}
		im, err := imaging.Decode(smp.Data, "", imaging.Limits{})
		if err != nil {
			return err
		}
		if err := analyse(i, "harmless", 0, im); err != nil {
			return err
		}
		flat := func() *image.NRGBA {
			if !im.HasAlpha {
				return &image.NRGBA{Pix: slices.Clone(im.NRGBA.Pix), Stride: im.NRGBA.Stride, Rect: im.NRGBA.Rect}
			}
			f := im.Flatten(color.White)
			return &image.NRGBA{Pix: f.Pix, Stride: f.Stride, Rect: f.Rect}
		}
		// The tile motif: the same draws as calibrate, so the same designs
		// and placements.
		if tiles := (nsfw.Tiling{}).WithDefaults().Tiles(smp.Width, smp.Height, 224); len(tiles) > 0 {
			p := flat()
			tl := tiles[rng.IntN(len(tiles))]
			side := tl.Dx() * 85 / 100
			c := tl.Min.Add(tl.Size().Div(2))
			m := bothModels[i%len(bothModels)]
			testimages.SkinMotifSeed(p, image.Rect(c.X-side/2, c.Y-side/2, c.X-side/2+side, c.Y-side/2+side), 19, m)
			if err := analyse(i, "tile-motif", m, &imaging.Image{NRGBA: p, Orientation: 1}); err != nil {
				return err
			}
		}
		p := flat()
		b := p.Rect
		side := min(b.Dx(), b.Dy()) * 85 / 100
		c := b.Min.Add(b.Size().Div(2))
		m := wholeMotifs[i%len(wholeMotifs)]
		testimages.SkinMotifSeed(p, image.Rect(c.X-side/2, c.Y-side/2, c.X-side/2+side, c.Y-side/2+side), 19, m)
		if err := analyse(i, "whole-motif", m, &imaging.Image{NRGBA: p, Orientation: 1}); err != nil {
			return err
		}
		if (i+1)%10 == 0 {
			fmt.Fprintf(os.Stderr, "%d/%d (%s)\n", i+1, n, time.Since(start).Round(time.Second))
		}
	}
	return checksTable(w, recs)
}

// wholeInception is InceptionV3's opinion of the whole design, cut like
// the verifier's tiles: averaged over blocks of ⌊short side / 299⌋ pixels,
// then area-resized to 299².
func wholeInception(ctx context.Context, inc *models.Classifier, im *imaging.Image) (nsfw.Probabilities, error) {
	pp := inc.Manifest().Preprocessing
	src := preprocess.NewSource(im, color.White)
	b := src.Bounds()
	k := max(1, min(b.Dx(), b.Dy())/pp.Width)
	small := src.BoxDownscale(k, image.Rect(0, 0, (b.Dx()+k-1)/k, (b.Dy()+k-1)/k))
	in := make([]float32, pp.Width*pp.Height*3)
	if err := preprocess.ResizeArea(in, small, image.Rect(0, 0, small.Width, small.Height), pp.Width, pp.Height); err != nil {
		return nsfw.Probabilities{}, err
	}
	out, err := inc.Classify(ctx, in)
	if err != nil {
		return nsfw.Probabilities{}, err
	}
	v := out[0]
	return nsfw.Probabilities{Drawing: float64(v[0]), Hentai: float64(v[1]), Neutral: float64(v[2]), Porn: float64(v[3]), Sexy: float64(v[4])}, nil
}

// checksVariant is one way of counting a record.
type checksVariant struct {
	name      string
	maxVerify int     // tiles checked by the second model, highest first
	whole     bool    // the whole design's unsafe scores ≥ 0.25 checked by InceptionV3 (geometric mean)
	floor     float64 // tile floor, explicit
	floorS    float64 // tile floor, suggestive
}

// scores are a record's explicit and suggestive scores under v.
func (v checksVariant) scores(r checkRec) (e, s float64) {
	unsafe := func(p nsfw.Probabilities) (float64, float64) { return math.Min(1, p.Porn+p.Hentai), p.Sexy }
	e, s = unsafe(r.Result.Probabilities)
	if v.whole && math.Max(e, s) >= nsfw.DefaultVerifyFloor {
		ie, is := unsafe(r.WholeInception)
		e, s = math.Sqrt(e*ie), math.Sqrt(s*is)
	}
	type cand struct {
		i int
		v float64
	}
	var cs []cand
	for i, t := range r.Result.Tiles {
		te, ts := unsafe(t.Probabilities)
		if m := math.Max(te, ts); m >= nsfw.DefaultVerifyFloor {
			cs = append(cs, cand{i, m})
		}
	}
	slices.SortStableFunc(cs, func(x, y cand) int { return cmp.Compare(y.v, x.v) })
	checked := map[int]bool{}
	for j, c := range cs {
		if j < v.maxVerify {
			checked[c.i] = true
		}
	}
	for i, t := range r.Result.Tiles {
		te, ts := unsafe(t.Probabilities)
		if checked[i] && t.Verifier != nil {
			me, msg := unsafe(*t.Verifier)
			te, ts = math.Sqrt(te*me), math.Sqrt(ts*msg)
		}
		if te >= v.floor {
			e = math.Max(e, te)
		}
		if ts >= v.floorS {
			s = math.Max(s, ts)
		}
	}
	return e, s
}

// checksTable prints, per variant, the harmless designs held and blocked
// (general markets: review at explicit ≥ 0.5, block ≥ 0.85; SA/AE: review
// at explicit ≥ 0.25 or suggestive ≥ 0.5, block at explicit ≥ 0.5 or
// suggestive ≥ 0.85) and the motifs caught (explicit ≥ 0.5).
func checksTable(w io.Writer, recs []checkRec) error {
	variants := []checksVariant{
		{"shipped: 8 tiles checked, floors 0.5/0.5", 8, false, 0.5, 0.5},
		{"12 tiles checked", 12, false, 0.5, 0.5},
		{"16 tiles checked", 16, false, 0.5, 0.5},
		{"every candidate tile checked", 48, false, 0.5, 0.5},
		{"8 tiles, suggestive floor 0.6", 8, false, 0.5, 0.6},
		{"8 tiles, suggestive floor 0.7", 8, false, 0.5, 0.7},
		{"8 tiles, explicit floor 0.55", 8, false, 0.55, 0.5},
		{"8 tiles + whole-image second opinion", 8, true, 0.5, 0.5},
		{"every tile + whole-image second opinion", 48, true, 0.5, 0.5},
	}
	count := map[string]int{}
	for _, r := range recs {
		count[r.Kind]++
	}
	fmt.Fprintf(w, "designs: %d harmless, %d with a tile motif (both-model seeds), %d with a full-frame motif (%d both-model, %d MobileNetV2-only seeds)\n",
		count["harmless"], count["tile-motif"], count["whole-motif"], countMotifs(recs, bothModels), countMotifs(recs, mobileOnly))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "variant\tharmless held, general\tharmless held, SA/AE\tharmless blocked, general\tharmless blocked, SA/AE\ttile motifs caught\tfull-frame motifs caught (both-model)\tfull-frame (MobileNetV2-only)")
	for _, v := range variants {
		var h held
		var tm, wb, wm int
		for _, r := range recs {
			e, s := v.scores(r)
			switch r.Kind {
			case "harmless":
				h.add(e, s)
			case "tile-motif":
				if e >= 0.5 {
					tm++
				}
			case "whole-motif":
				if e >= 0.5 {
					if slices.Contains(bothModels, r.Motif) {
						wb++
					} else {
						wm++
					}
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.name, h.shares(count["harmless"]),
			share(tm, count["tile-motif"]), share(wb, countMotifs(recs, bothModels)), share(wm, countMotifs(recs, mobileOnly)))
	}
	return tw.Flush()
}

func countMotifs(recs []checkRec, seeds []uint64) int {
	n := 0
	for _, r := range recs {
		if r.Kind == "whole-motif" && slices.Contains(seeds, r.Motif) {
			n++
		}
	}
	return n
}

// loadChecks reads a -checks-out file.
func loadChecks(path string) ([]checkRec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var out []checkRec
	for dec.More() {
		var r checkRec
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// wholeFiles prints, for each design file (e.g. the held designs
// make eval-benign -dump wrote), the analyzer's whole-design scores
// (nsfwjs), InceptionV3's on the whole design, the geometric mean the
// whole-image second opinion would give the rules, and the markets'
// outcome (general: review ≥ 0.5, block ≥ 0.85 explicit; SA/AE: review
// explicit ≥ 0.25 or suggestive ≥ 0.5, block explicit ≥ 0.5 or suggestive
// ≥ 0.85) with and without it. Tiles are the analyzer's own either way.
func wholeFiles(ctx context.Context, w io.Writer, files []string) error {
	env, err := modeltest.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Runtime.Close()
	a, err := nsfw.New(env.Runtime, nsfw.Config{ModelsDir: env.Install.ModelsDir})
	if err != nil {
		return err
	}
	defer a.Close()
	inc, err := models.NewClassifier(env.Runtime, filepath.Join(env.Install.ModelsDir, models.NSFWModelInception), models.SessionConfig{Sessions: 1})
	if err != nil {
		return err
	}
	defer inc.Close()
	outcome := func(e, s float64) string {
		g, sa := "allow", "allow"
		if e >= 0.85 {
			g = "block"
		} else if e >= 0.5 {
			g = "review"
		}
		if e >= 0.5 || s >= 0.85 {
			sa = "block"
		} else if e >= 0.25 || s >= 0.5 {
			sa = "review"
		}
		return g + "/" + sa
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "file\tnsfwjs explicit\tsuggestive\tInceptionV3 explicit\tsuggestive\tchecked explicit\tsuggestive\ttiles' best (checked)\tgeneral/SA-AE now\twith the whole-image check")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		im, err := imaging.Decode(b, "", imaging.Limits{MaxBytes: 64 << 20})
		if err != nil {
			fmt.Fprintf(tw, "%s\terror: %v\n", filepath.Base(f), err)
			continue
		}
		r, err := a.Analyze(ctx, &analyzers.Design{Image: im})
		if err != nil {
			return err
		}
		d := r.Data.(nsfw.Result)
		wi, err := wholeInception(ctx, inc, im)
		if err != nil {
			return err
		}
		we, ws := math.Min(1, d.Probabilities.Porn+d.Probabilities.Hentai), d.Probabilities.Sexy
		ie, is := math.Min(1, wi.Porn+wi.Hentai), wi.Sexy
		ce, cs := we, ws
		if math.Max(we, ws) >= nsfw.DefaultVerifyFloor {
			ce, cs = math.Sqrt(we*ie), math.Sqrt(ws*is)
		}
		// The tiles' part of the categories: what exceeds the whole image's.
		te, ts := 0.0, 0.0
		// (The analyzer rounds to 6 decimals.)
		if d.Categories.SexualExplicit > we+1e-6 {
			te = d.Categories.SexualExplicit
		}
		if d.Categories.SexualSuggestive > ws+1e-6 {
			ts = d.Categories.SexualSuggestive
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f/%.3f\t%s\t%s\n", filepath.Base(f), we, ws, ie, is, ce, cs, te, ts,
			outcome(d.Categories.SexualExplicit, d.Categories.SexualSuggestive), outcome(math.Max(ce, te), math.Max(cs, ts)))
	}
	return tw.Flush()
}
