// Command nsfwtiles measures the NSFW analyzer's tile evidence on harmless
// designs (eval/benign/benigngen, development seeds only) and on the
// small-element cases the tiles exist for (a motif the model scores as
// explicit at full frame, pasted at 12–30 % of the short side onto the same
// kind of designs), and compares tile strategies: decimated vs area
// pre-filtered tiles, skipping low-information tiles, flip agreement and
// tile thresholds. It is the measurement behind docs/nsfw.md.
//
//	go run ./eval/nsfwtiles -n 150 -pos 120 -out var/nsfwtiles.jsonl   # measure (slow)
//	go run ./eval/nsfwtiles -in var/nsfwtiles.jsonl                     # strategy table
//	go run ./eval/nsfwtiles -checks 3 -n 80 -checks-out FILE             # second-opinion variants (verify cap, whole image)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/eval/benign/benigngen"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/internal/testimages"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/preprocess"
)

// P is a five-class probability vector: drawing, hentai, neutral, porn, sexy.
type P [5]float32

func (p P) explicit() float64 { return math.Min(1, float64(p[1])+float64(p[3])) }
func (p P) sexy() float64     { return float64(p[4]) }

// TileRec is one tile's measurements.
type TileRec struct {
	Box    [4]int    `json:"box"`
	Dec    P         `json:"dec"`             // decimated, as nsfwjs resizes (the old tiles)
	Area   P         `json:"area"`            // area pre-filtered
	Flip   *P        `json:"flip,omitempty"`  // area pre-filtered, mirrored (when Area is not clearly safe)
	Inc    *P        `json:"inc,omitempty"`   // InceptionV3 on the area pre-filtered tile at 299 (when Area ≥ 0.2)
	Flat   float32   `json:"flat"`            // share of pixels near the dominant colour
	Colors int       `json:"colors"`          // distinct 4-bit colours
	Edge   float32   `json:"edge"`            // share of pixels with a strong gradient
	Ent    float32   `json:"ent"`             // luminance entropy, bits (32 bins)
	Skin   float32   `json:"skin"`            // share of skin-tone pixels
	Motif  float32   `json:"motif,omitempty"` // share of the motif inside this tile (positives)
	_      [0]func() // not comparable
}

// Rec is one design.
type Rec struct {
	Name  string    `json:"name"`
	Split string    `json:"split"` // dev (harmless) or pos (motif pasted)
	Desc  string    `json:"desc"`
	Frac  float64   `json:"frac,omitempty"`
	Motif [2]uint64 `json:"motif_seed,omitempty"`
	Whole P         `json:"whole"`
	Tiles []TileRec `json:"tiles"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "nsfwtiles:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nsfwtiles", flag.ContinueOnError)
	n := fs.Int("n", 150, "harmless designs per development seed")
	seedsFlag := fs.String("seeds", "1,2", "development seeds of the harmless designs (never the frozen test seeds)")
	pos := fs.Int("pos", 120, "designs with a pasted motif")
	out := fs.String("out", "", "measure and write JSON lines here")
	in := fs.String("in", "", "read measurements from these JSON lines files (comma-separated) and print the strategy table")
	calib := fs.Uint64("calibrate", 0, "run the analyzer on this development seed's designs (CI sizes) with and without a motif and print held/caught shares per tile floor")
	legacy := fs.Bool("legacy", false, "with -calibrate: the old tiles (decimated, no flat skip, no second model)")
	noVerify := fs.Bool("no-verifier", false, "with -calibrate: area tiles and flat skip, no second model")
	oneModel := fs.Bool("mobilenet-only-motifs", false, "with -calibrate: paste the motifs only MobileNetV2 calls explicit")
	checkSeed := fs.Uint64("checks", 0, "development seed: measure the second-opinion variants (verify caps, whole-image check) on harmless designs, tile motifs and full-frame motifs; records to -checks-out")
	checksOut := fs.String("checks-out", "checks.jsonl", "with -checks: where the records go")
	checksIn := fs.String("checks-in", "", "print the -checks table from these records (no models)")
	viewSeeds := fs.String("views", "", "development seeds: whole-image views (nsfwjs, area-averaged, centre, InceptionV3) of the full generator's harmless designs and of the same designs with a centred motif; records to -views-out")
	viewsMotifs := fs.Int("views-motif-every", 1, "with -views: paste the motifs on every k-th design only (they dominate the run's time on print files)")
	viewsOut := fs.String("views-out", "views.jsonl", "with -views: where the records go")
	viewsIn := fs.String("views-in", "", "print the -views table from these records (comma-separated; no models)")
	verbose := fs.Bool("v", false, "with -views-in: list the held harmless designs and the motifs a view loses")
	wholeDir := fs.String("whole-check", "", "folder of design files (e.g. eval-benign -dump): each design's whole-image scores with and without InceptionV3's second opinion")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *viewsIn != "" {
		recs, err := loadViews(*viewsIn)
		if err != nil {
			return err
		}
		return viewsTable(stdout, recs, *verbose)
	}
	if *viewSeeds != "" {
		var ss []uint64
		for _, f := range strings.Split(*viewSeeds, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return fmt.Errorf("-views %q: %w", f, err)
			}
			ss = append(ss, v)
		}
		if err := views(ctx, stderr, ss, *n, *viewsMotifs, *viewsOut); err != nil {
			return err
		}
		recs, err := loadViews(*viewsOut)
		if err != nil {
			return err
		}
		return viewsTable(stdout, recs, *verbose)
	}
	if *wholeDir != "" {
		files, err := filepath.Glob(filepath.Join(*wholeDir, "*"))
		if err != nil {
			return err
		}
		return wholeFiles(ctx, stdout, files)
	}
	if *checksIn != "" {
		recs, err := loadChecks(*checksIn)
		if err != nil {
			return err
		}
		return checksTable(stdout, recs)
	}
	if *checkSeed != 0 {
		if *checkSeed >= 1000 {
			return fmt.Errorf("-checks %d: development seeds only (< 1000)", *checkSeed)
		}
		return checks(ctx, stdout, *checkSeed, *n, *checksOut)
	}
	if *calib != 0 {
		cfg := nsfw.Config{}
		if *legacy {
			cfg = nsfw.Config{}.OldTiles()
		} else if *noVerify {
			cfg.Verifier = "none"
		}
		motifs := bothModels
		if *oneModel {
			motifs = mobileOnly
		}
		return calibrate(ctx, stdout, *calib, *n, cfg, motifs)
	}
	if *out != "" {
		if err := measure(ctx, *out, *seedsFlag, *n, *pos, stderr); err != nil {
			return err
		}
		*in = *out
	}
	if *in == "" {
		return fmt.Errorf("give -out to measure or -in to analyse")
	}
	var recs []Rec
	for _, f := range strings.Split(*in, ",") {
		rs, err := load(f)
		if err != nil {
			return err
		}
		recs = append(recs, rs...)
	}
	analyse(stdout, recs)
	return nil
}

func load(path string) ([]Rec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Rec
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r Rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// motifSeeds are SkinMotifSeed seeds the model scores as explicit (porn +
// hentai ≥ 0.8) at full frame, found by measure.
func findMotifs(ctx context.Context, clf *models.Classifier, want int) ([][2]uint64, error) {
	var out [][2]uint64
	for s := uint64(1); len(out) < want && s < 400; s++ {
		img := image.NewNRGBA(image.Rect(0, 0, 224, 224))
		testimages.SkinMotifSeed(img, img.Rect, 19, s)
		in := make([]float32, 224*224*3)
		px := preprocess.Pixels{Pix: img.Pix, Stride: img.Stride, Width: 224, Height: 224}
		if err := preprocess.ResizeBilinear(in, px, img.Rect, 224, 224, true); err != nil {
			return nil, err
		}
		o, err := clf.Classify(ctx, in)
		if err != nil {
			return nil, err
		}
		if float64(o[0][1])+float64(o[0][3]) >= 0.8 {
			out = append(out, [2]uint64{19, s})
		}
	}
	return out, nil
}

func measure(ctx context.Context, outPath, seedsFlag string, n, npos int, stderr io.Writer) error {
	env, err := modeltest.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Runtime.Close()
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: env.Install.ModelsDir, Models: []string{models.NSFWModelInception}})
	if err != nil {
		return err
	}
	inc, err := models.NewClassifier(env.Runtime, inst.ModelDir(models.NSFWModelInception), models.SessionConfig{Sessions: 1, MaxBatch: 4})
	if err != nil {
		return err
	}
	defer inc.Close()
	clf, err := models.NewClassifier(env.Runtime, env.Install.ModelDir(models.NSFWModel), models.SessionConfig{Sessions: 1, MaxBatch: 16})
	if err != nil {
		return err
	}
	defer clf.Close()
	cache, _ := filepath.Abs(npmfetch.DefaultCacheDir(os.Getenv))
	src, err := benigngen.LoadSources(ctx, cache, benigngen.SourceOptions{SystemFonts: true})
	if err != nil {
		return err
	}
	motifs, err := findMotifs(ctx, clf, 12)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d motif seeds score explicit ≥ 0.8 at full frame: %v\n", len(motifs), motifs)
	f, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	start := time.Now()
	var seeds []uint64
	for _, s := range strings.Split(seedsFlag, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return err
		}
		seeds = append(seeds, v)
	}
	tiling := nsfw.Tiling{}.WithDefaults()
	do := func(smp benigngen.Sample, split string, frac float64, motif [2]uint64, rng *rand.Rand) error {
		im, err := imaging.Decode(smp.Data, "", imaging.Limits{})
		if err != nil {
			return err
		}
		var motifBox image.Rectangle
		if split == "pos" {
			// Paste the motif (opaque) at a random place.
			flat := im.NRGBA
			if im.HasAlpha {
				f := im.Flatten(color.White)
				flat = &image.NRGBA{Pix: f.Pix, Stride: f.Stride, Rect: f.Rect} // opaque: same bytes
			}
			side := int(frac * float64(min(flat.Rect.Dx(), flat.Rect.Dy())))
			x, y := rng.IntN(flat.Rect.Dx()-side+1), rng.IntN(flat.Rect.Dy()-side+1)
			motifBox = image.Rect(x, y, x+side, y+side)
			testimages.SkinMotifSeed(flat, motifBox, motif[0], motif[1])
			im = &imaging.Image{NRGBA: flat, MediaType: im.MediaType, Orientation: 1}
		}
		rec, err := measureOne(ctx, clf, inc, im, tiling, motifBox)
		if err != nil {
			return err
		}
		rec.Name, rec.Split, rec.Desc, rec.Frac, rec.Motif = smp.Name, split, smp.Describe(), frac, motif
		return enc.Encode(rec)
	}
	// Harmless designs of the development seeds, interleaved with
	// positives: designs of another development seed (77) with a motif
	// pasted, only canvases that are tiled (short side ≥ 448).
	gp, err := benigngen.NewGenerator(benigngen.Config{Seed: 77}, src)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(77, 1))
	fracs := []float64{0.12, 0.15, 0.2, 0.25, 0.3}
	posI, posK := 0, 0
	nextPos := func() error {
		for posK < npos {
			smp, err := gp.Sample(posI)
			posI++
			if err != nil {
				return err
			}
			if min(smp.Width, smp.Height) < 448 {
				continue
			}
			if err := do(smp, "pos", fracs[posK%len(fracs)], motifs[posK%len(motifs)], rng); err != nil {
				return err
			}
			posK++
			return nil
		}
		return nil
	}
	total := n * len(seeds)
	done := 0
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
			if err := do(smp, "dev", 0, [2]uint64{}, nil); err != nil {
				return fmt.Errorf("%s: %w", smp.Name, err)
			}
			done++
			for posK*total < npos*done {
				if err := nextPos(); err != nil {
					return err
				}
			}
			if done%10 == 0 {
				fmt.Fprintf(stderr, "%d/%d harmless, %d/%d positives (%s)\n", done, total, posK, npos, time.Since(start).Round(time.Second))
			}
		}
	}
	for posK < npos && ctx.Err() == nil {
		if err := nextPos(); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func measureOne(ctx context.Context, clf, inc *models.Classifier, im *imaging.Image, tiling nsfw.Tiling, motif image.Rectangle) (Rec, error) {
	px := preprocess.FromImage(im, color.White)
	const S = 224
	rects := tiling.Tiles(px.Width, px.Height, S)
	inputs := [][]float32{make([]float32, S*S*3)}
	if err := preprocess.ResizeBilinear(inputs[0], px, image.Rect(0, 0, px.Width, px.Height), S, S, true); err != nil {
		return Rec{}, err
	}
	k := 1
	if len(rects) > 0 {
		k = max(1, rects[0].Dx()/S)
	}
	small := preprocess.BoxDownscale(px, k)
	areaIn := make([][]float32, len(rects))
	for _, r := range rects {
		d := make([]float32, S*S*3)
		if err := preprocess.ResizeBilinear(d, px, r, S, S, true); err != nil {
			return Rec{}, err
		}
		inputs = append(inputs, d)
	}
	for i, r := range rects {
		d := make([]float32, S*S*3)
		sr := image.Rect(r.Min.X/k, r.Min.Y/k, (r.Max.X+k-1)/k, (r.Max.Y+k-1)/k)
		if err := preprocess.ResizeArea(d, small, sr, S, S); err != nil {
			return Rec{}, err
		}
		areaIn[i] = d
		inputs = append(inputs, d)
	}
	out, err := clf.Classify(ctx, inputs...)
	if err != nil {
		return Rec{}, err
	}
	rec := Rec{Whole: toP(out[0])}
	var flips [][]float32
	var flipIdx []int
	for i, r := range rects {
		t := TileRec{Box: [4]int{r.Min.X, r.Min.Y, r.Dx(), r.Dy()}, Dec: toP(out[1+i]), Area: toP(out[1+len(rects)+i])}
		t.Flat, t.Colors, t.Edge, t.Ent, t.Skin = features(areaIn[i], S)
		if !motif.Empty() {
			t.Motif = float32(area(motif.Intersect(r))) / float32(area(motif))
		}
		if t.Area.explicit() >= 0.05 || t.Area.sexy() >= 0.05 {
			flips = append(flips, mirror(areaIn[i], S))
			flipIdx = append(flipIdx, i)
		}
		rec.Tiles = append(rec.Tiles, t)
	}
	// InceptionV3 on tiles mobilenet scores ≥ 0.2 (area pre-filtered at 299).
	var incIn [][]float32
	var incIdx []int
	var small299 preprocess.Pixels
	k299 := 1
	for i, r := range rects {
		t := rec.Tiles[i]
		if t.Area.explicit() < 0.2 && t.Area.sexy() < 0.2 {
			continue
		}
		if len(incIn) == 0 {
			k299 = max(1, r.Dx()/299)
			small299 = preprocess.BoxDownscale(px, k299)
		}
		d := make([]float32, 299*299*3)
		sr := image.Rect(r.Min.X/k299, r.Min.Y/k299, min(small299.Width, (r.Max.X+k299-1)/k299), min(small299.Height, (r.Max.Y+k299-1)/k299))
		if err := preprocess.ResizeArea(d, small299, sr, 299, 299); err != nil {
			return Rec{}, err
		}
		incIn = append(incIn, d)
		incIdx = append(incIdx, i)
	}
	if len(incIn) > 0 {
		io, err := inc.Classify(ctx, incIn...)
		if err != nil {
			return Rec{}, err
		}
		for j, i := range incIdx {
			p := toP(io[j])
			rec.Tiles[i].Inc = &p
		}
	}
	if len(flips) > 0 {
		fo, err := clf.Classify(ctx, flips...)
		if err != nil {
			return Rec{}, err
		}
		for j, i := range flipIdx {
			p := toP(fo[j])
			rec.Tiles[i].Flip = &p
		}
	}
	return rec, nil
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }

func toP(v []float32) P { return P{v[0], v[1], v[2], v[3], v[4]} }

func mirror(in []float32, s int) []float32 {
	out := make([]float32, len(in))
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			copy(out[(y*s+x)*3:(y*s+x)*3+3], in[(y*s+s-1-x)*3:(y*s+s-1-x)*3+3])
		}
	}
	return out
}

// features of a model input (values 0..1, s×s RGB).
func features(in []float32, s int) (flat float32, colors int, edge, ent, skin float32) {
	n := s * s
	hist := map[uint16]int{}
	var lh [32]int
	lumv := make([]float32, n)
	skinN := 0
	for i := 0; i < n; i++ {
		r, g, b := in[i*3], in[i*3+1], in[i*3+2]
		q := uint16(r*15.999)<<8 | uint16(g*15.999)<<4 | uint16(b*15.999)
		hist[q]++
		l := 0.299*r + 0.587*g + 0.114*b
		lumv[i] = l
		lh[min(31, int(l*32))]++
		R, G, B := r*255, g*255, b*255
		mx, mn := max(R, G, B), min(R, G, B)
		if R > 95 && G > 40 && B > 20 && mx-mn > 15 && R-G > 15 && R > B {
			skinN++
		}
	}
	var mode uint16
	best := 0
	for q, c := range hist {
		if c > best {
			mode, best = q, c
		}
	}
	// Pixels whose 4-bit colour is the mode or a neighbour of it.
	near := 0
	for q, c := range hist {
		if absd(int(q>>8), int(mode>>8)) <= 1 && absd(int(q>>4&15), int(mode>>4&15)) <= 1 && absd(int(q&15), int(mode&15)) <= 1 {
			near += c
		}
	}
	for _, c := range lh {
		if c > 0 {
			p := float64(c) / float64(n)
			ent -= float32(p * math.Log2(p))
		}
	}
	e := 0
	for y := 1; y < s-1; y++ {
		for x := 1; x < s-1; x++ {
			gx := lumv[y*s+x+1] - lumv[y*s+x-1]
			gy := lumv[(y+1)*s+x] - lumv[(y-1)*s+x]
			if gx*gx+gy*gy > 0.01 {
				e++
			}
		}
	}
	return float32(near) / float32(n), len(hist), float32(e) / float32((s-2)*(s-2)), ent, float32(skinN) / float32(n)
}

func absd(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
