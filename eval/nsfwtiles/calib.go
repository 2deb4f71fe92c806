package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/eval/benign/benigngen"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/internal/testimages"
)

// calibSizes are the frozen CI set's sizes (no 24-megapixel files), so a
// calibration run takes minutes.
var calibSizes = []benigngen.Size{{W: 1200, H: 1200, Weight: 0.45}, {W: 1000, H: 1000, Weight: 0.15},
	{W: 1500, H: 1800, Weight: 0.25}, {W: 800, H: 800, Weight: 0.1}, {W: 500, H: 500, Weight: 0.05}}

// bothModels are the SkinMotifSeed seeds both MobileNetV2 and InceptionV3
// score as explicit at full frame (≥ 0.8 and ≥ 0.59); mobileOnly are those
// only MobileNetV2 does (InceptionV3 0.02–0.45).
var (
	bothModels = []uint64{6, 27, 54, 35, 7}
	mobileOnly = []uint64{8, 23, 24, 39, 40, 41, 51}
)

// calibrate runs the analyzer as configured (tile floors off) on harmless
// development designs and on the same designs with a motif centred in a
// random tile at 85 % of its side, and prints, per tile floor, the share of
// harmless designs held and of motifs caught.
func calibrate(ctx context.Context, w io.Writer, seed uint64, n int, cfg nsfw.Config, motifs []uint64) error {
	env, err := modeltest.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Runtime.Close()
	cfg.ModelsDir = env.Install.ModelsDir
	cfg.TileFloors = nsfw.TileFloors{SexualExplicit: -1, SexualSuggestive: -1}
	a, err := nsfw.New(env.Runtime, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	g, err := calibGenerator(ctx, seed)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	type pt struct{ e, s, whole float64 }
	var neg, pos []pt
	var ms []float64
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
		t0 := time.Now()
		r, err := a.Analyze(ctx, &analyzers.Design{Image: im})
		if err != nil {
			return err
		}
		ms = append(ms, float64(time.Since(t0).Milliseconds()))
		d := r.Data.(nsfw.Result)
		neg = append(neg, pt{d.Categories.SexualExplicit, d.Categories.SexualSuggestive, d.Probabilities.Porn + d.Probabilities.Hentai})
		tiles := cfg.Tiling.WithDefaults().Tiles(smp.Width, smp.Height, 224)
		if len(tiles) == 0 {
			continue
		}
		flat := im.NRGBA
		if im.HasAlpha {
			f := im.Flatten(color.White)
			flat = &image.NRGBA{Pix: f.Pix, Stride: f.Stride, Rect: f.Rect}
		}
		tl := tiles[rng.IntN(len(tiles))]
		side := tl.Dx() * 85 / 100
		c := tl.Min.Add(tl.Size().Div(2))
		testimages.SkinMotifSeed(flat, image.Rect(c.X-side/2, c.Y-side/2, c.X-side/2+side, c.Y-side/2+side), 19, motifs[i%len(motifs)])
		r, err = a.Analyze(ctx, &analyzers.Design{Image: &imaging.Image{NRGBA: flat, Orientation: 1}})
		if err != nil {
			return err
		}
		d = r.Data.(nsfw.Result)
		pos = append(pos, pt{d.Categories.SexualExplicit, d.Categories.SexualSuggestive, d.Probabilities.Porn + d.Probabilities.Hentai})
		if (i+1)%10 == 0 {
			fmt.Fprintf(os.Stderr, "%d/%d (%s)\n", i+1, n, time.Since(start).Round(time.Second))
		}
	}
	sort.Float64s(ms)
	mean := 0.0
	for _, v := range ms {
		mean += v
	}
	fmt.Fprintf(w, "seed %d: %d harmless designs (mean %.0f ms, p50 %.0f ms per design), %d with a motif (seeds %v); tiling %+v verifier %q\n",
		seed, len(neg), mean/float64(max(1, len(ms))), ms[len(ms)/2], len(pos), motifs, cfg.Tiling, cfg.Verifier)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "tile floor\tharmless held, general (explicit ≥ 0.5)\tharmless held SA/AE (explicit ≥ 0.25 | suggestive ≥ 0.5)\tharmless blocked (explicit ≥ 0.85)\tmotifs caught (explicit ≥ 0.5)")
	for _, f := range []float64{0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9} {
		eff := func(p pt) (float64, float64) {
			e, s := p.e, p.s
			if e < f && e > p.whole {
				e = p.whole // below the floor only the whole image counts
			}
			if s < f {
				s = 0
			}
			return e, s
		}
		hg, hs, bl, cp := 0, 0, 0, 0
		for _, p := range neg {
			e, s := eff(p)
			if e >= 0.5 {
				hg++
			}
			if e >= 0.25 || s >= 0.5 {
				hs++
			}
			if e >= 0.85 {
				bl++
			}
		}
		for _, p := range pos {
			if e, _ := eff(p); e >= 0.5 {
				cp++
			}
		}
		fmt.Fprintf(tw, "%.2f\t%s\t%s\t%s\t%s\n", f, share(hg, len(neg)), share(hs, len(neg)), share(bl, len(neg)), share(cp, len(pos)))
	}
	return tw.Flush()
}

// calibGenerator is the harmless-design generator of a calibration seed:
// every icon set and font, the calibration sizes.
func calibGenerator(ctx context.Context, seed uint64) (*benigngen.Generator, error) {
	cache, _ := filepath.Abs(npmfetch.DefaultCacheDir(os.Getenv))
	src, err := benigngen.LoadSources(ctx, cache, benigngen.SourceOptions{SystemFonts: true})
	if err != nil {
		return nil, err
	}
	return benigngen.NewGenerator(benigngen.Config{Seed: seed, Sizes: calibSizes}, src)
}
