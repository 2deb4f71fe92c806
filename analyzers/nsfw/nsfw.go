// Package nsfw is Muster's NSFW analyzer: the nsfwjs MobileNetV2 classifier,
// converted to ONNX, run on the whole design and on overlapping tiles so a
// small explicit element on a large print file is not averaged away.
package nsfw

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"sync"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/preprocess"
	"github.com/muster-dev/muster/mustertype"
)

// AnalyzerName is the analyzer's Name().
const AnalyzerName = mustertype.AnalyzerNSFW

// Derived category names, used in Result.Categories and as Finding labels.
const (
	CategorySexualExplicit   = mustertype.CategorySexualExplicit
	CategorySexualSuggestive = mustertype.CategorySexualSuggestive
	CategoryDrawing          = mustertype.CategoryDrawing
)

// DefaultReportThreshold is the lowest category score reported as a Finding.
const DefaultReportThreshold = 0.2

// Default tile floors, calibrated on development seeds (docs/nsfw.md).
const (
	DefaultTileFloorExplicit   = 0.5
	DefaultTileFloorSuggestive = 0.5
)

// Config configures the analyzer.
type Config struct {
	// ModelsDir is where Setup installed the models (default models.DefaultModelsDir).
	ModelsDir string
	// Model is the model to load (default models.NSFWModel).
	Model string
	// Verifier is the second model that checks high-scoring tiles
	// (default models.NSFWModelInception; "none": tiles are not checked).
	// A checked tile counts with the geometric mean of the two models'
	// unsafe scores.
	Verifier string
	// Session sizes the session pool and batching; set Sessions to the
	// worker's concurrency.
	Session models.SessionConfig
	// Tiling controls the tiles classified besides the whole design and
	// how their scores are checked.
	Tiling Tiling
	// TileFloors are the per-category tile scores below which a tile's
	// evidence is ignored (defaults DefaultTileFloorExplicit and
	// DefaultTileFloorSuggestive; negative: none).
	TileFloors TileFloors
	// ReportThreshold is the lowest category score that becomes a Finding
	// (default DefaultReportThreshold). The policy decides; this only keeps
	// near-zero noise out of the findings.
	ReportThreshold float64
	// Background is what transparent pixels are composited onto (default white,
	// the colour of most print substrates).
	Background color.Color
	// WholeCheckBelow is the top of the band in which the whole design's
	// unsafe scores are checked by the second model (default
	// DefaultWholeCheckBelow; negative: no check). A whole-image
	// sexual_explicit or sexual_suggestive score from Tiling.VerifyFloor
	// up to (not including) it is replaced, in Result.Checked, by its
	// geometric mean with InceptionV3's on the whole design
	// (area-averaged to its input, as a checked tile); scores from it up
	// stand as nsfwjs gave them, so every decision at or above it is
	// unchanged. Probabilities and Categories stay nsfwjs's either way
	// (parity); the policy chooses which it reads (nsfw.checked,
	// docs/nsfw.md).
	WholeCheckBelow float64
}

// DefaultWholeCheckBelow: the whole design's second opinion covers only
// the band below the general review threshold, where the default pack's
// one decision is SA/AE's strict review (explicit ≥ 0.25); measured on
// development seeds in docs/nsfw.md.
const DefaultWholeCheckBelow = 0.5

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.ModelsDir == "" {
		c.ModelsDir = models.DefaultModelsDir
	}
	if c.Model == "" {
		c.Model = models.NSFWModel
	}
	if c.Verifier == "" {
		c.Verifier = models.NSFWModelInception
	}
	c.Session = c.Session.WithDefaults()
	c.Tiling = c.Tiling.WithDefaults()
	if c.ReportThreshold == 0 {
		c.ReportThreshold = DefaultReportThreshold
	}
	if c.TileFloors.SexualExplicit == 0 {
		c.TileFloors.SexualExplicit = DefaultTileFloorExplicit
	}
	if c.TileFloors.SexualSuggestive == 0 {
		c.TileFloors.SexualSuggestive = DefaultTileFloorSuggestive
	}
	if c.Background == nil {
		c.Background = color.White
	}
	if c.WholeCheckBelow == 0 {
		c.WholeCheckBelow = DefaultWholeCheckBelow
	}
	return c
}

// OldTiles returns c with the tile logic main shipped before issue 15:
// every tile classified after nsfwjs's decimating resize, no second model,
// no tile floors. The whole design is classified the same way either way.
// eval/benign (-compare-legacy), eval/nsfwtiles (-legacy) and
// eval/benchpipeline (-nsfw-tiles) use it so the old figures are measured
// in the same run, not remembered.
func (c Config) OldTiles() Config {
	c.Verifier = "none"
	c.Tiling.Decimate = true
	c.Tiling.FlatSkip = -1
	c.Tiling.TwoColourSkip = -1
	c.TileFloors = TileFloors{SexualExplicit: -1, SexualSuggestive: -1}
	c.WholeCheckBelow = -1
	return c
}

// Validate checks a defaulted config.
func (c Config) Validate() error {
	if c.ReportThreshold < 0 || c.ReportThreshold > 1 {
		return fmt.Errorf("nsfw config: report threshold %v outside 0..1", c.ReportThreshold)
	}
	if c.WholeCheckBelow > 1 {
		return fmt.Errorf("nsfw config: whole check band top %v above 1", c.WholeCheckBelow)
	}
	if c.TileFloors.SexualExplicit > 1 || c.TileFloors.SexualSuggestive > 1 {
		return fmt.Errorf("nsfw config: tile floors %+v above 1", c.TileFloors)
	}
	if err := c.Session.Validate(); err != nil {
		return fmt.Errorf("nsfw config: %w", err)
	}
	return c.Tiling.Validate()
}

// The analyzer's result types are the leaf types the policy reads
// (mustertype), so the analyzer → policy contract is checked by the compiler.
type (
	// Probabilities are the model's five class probabilities.
	Probabilities = mustertype.NSFWProbabilities
	// Categories are the scores the policy reads, each in 0..1.
	Categories = mustertype.NSFWCategories
	// Tile is one classified region of the design.
	Tile = mustertype.NSFWTile
	// Result is the analyzer's Result.Data.
	Result = mustertype.NSFWResult
)

// Analyzer implements analyzers.Analyzer with the NSFW classifier.
type Analyzer struct {
	cfg      Config
	clf      *models.Classifier
	manifest models.Manifest
	ver      *models.Classifier // nil when Verifier is "none"
	verMan   models.Manifest
	inputs   sync.Pool // *[]float32 tile inputs of the model's size, reused across analyses
}

// input returns a tile input buffer of the model's size (contents
// undefined: the resize overwrites every value).
func (a *Analyzer) input() []float32 {
	if p, ok := a.inputs.Get().(*[]float32); ok {
		return *p
	}
	pp := a.manifest.Preprocessing
	return make([]float32, pp.Width*pp.Height*3)
}

var _ analyzers.Analyzer = (*Analyzer)(nil)

// New opens the model from cfg.ModelsDir on an initialized runtime.
func New(rt *models.Runtime, cfg Config) (*Analyzer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	clf, err := models.NewClassifier(rt, filepath.Join(cfg.ModelsDir, cfg.Model), cfg.Session)
	if err != nil {
		return nil, fmt.Errorf("nsfw analyzer: %w", err)
	}
	m := clf.Manifest()
	if !nsfwLabels(m.Labels) {
		_ = clf.Close()
		return nil, fmt.Errorf("nsfw analyzer: model %s has labels %v, want nsfwjs's five classes", m.Name, m.Labels)
	}
	a := &Analyzer{cfg: cfg, clf: clf, manifest: m}
	if cfg.Verifier != "none" {
		// Tiles are few and checked rarely: one session, small batches,
		// on as many threads as the first model's sessions have together
		// (a checked design's 1–8 InceptionV3 runs are its longest step).
		vc := models.SessionConfig{Sessions: 1, MaxBatch: 4, IntraOpThreads: cfg.Session.Sessions * cfg.Session.IntraOpThreads, Logger: cfg.Session.Logger}
		ver, err := models.NewClassifier(rt, filepath.Join(cfg.ModelsDir, cfg.Verifier), vc)
		if err != nil {
			_ = clf.Close()
			return nil, fmt.Errorf("nsfw analyzer: verifier: %w", err)
		}
		if !nsfwLabels(ver.Manifest().Labels) {
			_ = clf.Close()
			_ = ver.Close()
			return nil, fmt.Errorf("nsfw analyzer: verifier %s has labels %v, want nsfwjs's five classes", cfg.Verifier, ver.Manifest().Labels)
		}
		a.ver, a.verMan = ver, ver.Manifest()
	}
	return a, nil
}

func nsfwLabels(l []string) bool {
	return len(l) == 5 && l[0] == "drawing" && l[1] == "hentai" && l[2] == "neutral" && l[3] == "porn" && l[4] == "sexy"
}

// Name is "nsfw".
func (a *Analyzer) Name() string { return AnalyzerName }

// Version is the model's version, e.g. "nsfwjs-mobilenet_v2@4.4.0+daf81fc3ffe1".
func (a *Analyzer) Version() string { return a.manifest.ModelVersion() }

// Classifier exposes the underlying classifier (stats, benchmarks).
func (a *Analyzer) Classifier() *models.Classifier { return a.clf }

// Close releases the sessions.
func (a *Analyzer) Close() error {
	err := a.clf.Close()
	if a.ver != nil {
		err = errors.Join(err, a.ver.Close())
	}
	return err
}

// TilesVersion names the tile logic; it is recorded with every analysis
// (Result.Versions["nsfw:tiles"]) because it changes scores without a new
// model.
const TilesVersion = "area-flatskip-twocolour-verify16-floors/4"

// WholeCheckVersion names the whole design's second view and how it is
// combined (Result.Versions["nsfw:whole"], present when the check is on).
const WholeCheckVersion = "inception-band/1"

// Analyze classifies the whole design (exactly as nsfwjs does) and its
// tiles (area pre-filtered, flat tiles skipped, high scores checked by a
// second model, tile evidence below the per-category floors ignored).
func (a *Analyzer) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d == nil || d.Image == nil || d.Image.NRGBA == nil {
		return analyzers.Result{}, errors.New("nsfw: design has no decoded image")
	}
	src := preprocess.NewSource(d.Image, a.cfg.Background)
	w, h := a.manifest.Preprocessing.Width, a.manifest.Preprocessing.Height
	align := a.manifest.Preprocessing.AlignCorners
	tl := a.cfg.Tiling
	whole := make([]float32, w*h*3)
	var px preprocess.Pixels // the flattened design, old tiles only
	if tl.Decimate {
		// The old tiles, as main shipped them: a flattened copy of the
		// design, nsfwjs's resize of it for the whole and every tile.
		px = preprocess.FromImage(d.Image, a.cfg.Background)
		if err := preprocess.ResizeBilinear(whole, px, image.Rect(0, 0, px.Width, px.Height), w, h, align); err != nil {
			return analyzers.Result{}, fmt.Errorf("nsfw: preprocess: %w", err)
		}
	} else if err := src.Whole(whole, w, h, align); err != nil {
		return analyzers.Result{}, fmt.Errorf("nsfw: preprocess: %w", err)
	}
	bounds := src.Bounds()
	all := tl.Tiles(bounds.Dx(), bounds.Dy(), w)
	if len(all) == 0 {
		out, err := a.clf.Classify(ctx, whole)
		if err != nil {
			return analyzers.Result{}, fmt.Errorf("nsfw: classify: %w", err)
		}
		return a.result(ctx, src, out[0], nil, nil, 0)
	}
	// The whole design, then the tiles in chunks of tileChunk as they are
	// prepared, are classified while the next tiles are prepared (the
	// classifier spreads them over its sessions). Analyze waits for every
	// call it started, on every path.
	type classified struct {
		out [][]float32
		err error
	}
	type call struct {
		inputs [][]float32
		done   chan classified
	}
	var calls []call
	submit := func(inputs [][]float32) {
		c := call{inputs, make(chan classified, 1)}
		go func() {
			out, err := a.clf.Classify(ctx, c.inputs...)
			c.done <- classified{out, err}
		}()
		calls = append(calls, c)
	}
	submit([][]float32{whole})
	var (
		rects []image.Rectangle
		chunk [][]float32
	)
	skipped, err := a.tileInputs(src, px, all, w, h, align, func(in []float32, r image.Rectangle) {
		rects = append(rects, r)
		if chunk = append(chunk, in); len(chunk) == tileChunk {
			submit(chunk)
			chunk = nil
		}
	})
	if err != nil {
		err = fmt.Errorf("nsfw: tiles: %w", err)
	} else if len(chunk) > 0 {
		submit(chunk)
	}
	var outs [][]float32
	for _, c := range calls {
		r := <-c.done
		if r.err != nil {
			err = errors.Join(err, fmt.Errorf("nsfw: classify: %w", r.err))
		}
		outs = append(outs, r.out...)
	}
	if err != nil {
		// Inputs are not reused: a cancelled call may leave some queued.
		return analyzers.Result{}, err
	}
	for _, c := range calls[1:] {
		for _, in := range c.inputs {
			// The classifier has copied them into its batch tensors.
			a.inputs.Put(&in)
		}
	}
	tileOut := outs[1:]
	rowMajor(rects, tileOut)
	return a.result(ctx, src, outs[0], rects, tileOut, skipped)
}

// tileChunk is how many tiles go to the classifier at once while the
// next are prepared: small enough that the first are classified early,
// large enough to be split over two sessions.
const tileChunk = 4

// tileInputs prepares the model inputs of the tiles worth classifying (all
// of them with the old tiles), hands each to emit in order with its tile,
// and counts the low-information ones skipped.
// New tiles are cut from the design averaged over blocks of ⌊side/input⌋
// pixels and area-resized — the same bytes and floats as before this was
// made faster (TestTileInputsUnchanged) — and a tile whose pixels span at
// most one quantization step per channel is skipped before it is resized
// (its input would be flat: flatRegion).
func (a *Analyzer) tileInputs(src preprocess.Source, px preprocess.Pixels, all []image.Rectangle, w, h int, align bool, emit func(in []float32, r image.Rectangle)) (skipped int, err error) {
	tl := a.cfg.Tiling
	if tl.Decimate {
		for _, r := range all {
			in := a.input()
			if err := preprocess.ResizeBilinear(in, px, r, w, h, align); err != nil {
				return 0, fmt.Errorf("preprocess %v: %w", r, err)
			}
			emit(in, r)
		}
		return 0, nil
	}
	// Every tile has the same side: average blocks of ⌊side/input⌋ pixels
	// once, then cut the tiles from the smaller image and area-resize them
	// (the remaining ratio is below 2).
	k := max(1, all[0].Dx()/w)
	var small preprocess.Pixels
	if k == 1 {
		small = src.Opaque()
	} else {
		small = src.BoxDownscale(k, src.Bounds())
	}
	// Column by column, top to bottom: a column's tiles overlap by half,
	// and the rows they share are resized horizontally once (AreaTiles:
	// the same values as ResizeArea). Analyze puts the tiles back in
	// row-major order.
	at := preprocess.NewAreaTiles(small, w, h)
	defer at.Release()
	for _, r := range columnMajor(all) {
		sr := blockRect(r, k, small)
		if tl.FlatSkip > 0 && flatRegion(small, sr) {
			skipped++
			continue
		}
		in := a.input()
		if err := at.Resize(in, sr); err != nil {
			return 0, fmt.Errorf("preprocess %v: %w", r, err)
		}
		if tl.lowInformation(in) {
			skipped++
			a.inputs.Put(&in)
			continue
		}
		emit(in, r)
	}
	return skipped, nil
}

// columnMajor returns the tiles ordered by column, then top to bottom.
func columnMajor(all []image.Rectangle) []image.Rectangle {
	out := slices.Clone(all)
	slices.SortStableFunc(out, func(a, b image.Rectangle) int {
		return cmp.Or(cmp.Compare(a.Min.X, b.Min.X), cmp.Compare(a.Min.Y, b.Min.Y))
	})
	return out
}

// rowMajor sorts tiles (and their outputs alike) top to bottom, then left
// to right: the order of Tiling.Tiles.
func rowMajor(rects []image.Rectangle, outs [][]float32) {
	idx := make([]int, len(rects))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		return cmp.Or(cmp.Compare(rects[i].Min.Y, rects[j].Min.Y), cmp.Compare(rects[i].Min.X, rects[j].Min.X))
	})
	r2, o2 := slices.Clone(rects), slices.Clone(outs)
	for k, i := range idx {
		rects[k], outs[k] = r2[i], o2[i]
	}
}

// blockRect is the design rectangle r in the blocks of k pixels of small.
func blockRect(r image.Rectangle, k int, small preprocess.Pixels) image.Rectangle {
	return image.Rect(r.Min.X/k, r.Min.Y/k, min(small.Width, (r.Max.X+k-1)/k), min(small.Height, (r.Max.Y+k-1)/k))
}

// result assembles the analysis from the whole design's and the tiles'
// model outputs, after the second model's check.
func (a *Analyzer) result(ctx context.Context, src preprocess.Source, whole []float32, rects []image.Rectangle, tileOut [][]float32, skipped int) (analyzers.Result, error) {
	b := src.Bounds()
	res := Result{
		Model:         a.manifest.Name,
		ModelVersion:  a.Version(),
		Probabilities: probs(whole),
		Tiles:         make([]Tile, len(rects)),
		TilesSkipped:  skipped,
	}
	for i, r := range rects {
		res.Tiles[i] = Tile{Box: box(r), Probabilities: probs(tileOut[i])}
	}
	if err := a.verify(ctx, src, &res); err != nil {
		return analyzers.Result{}, err
	}
	best := [3]int{-1, -1, -1} // tile index of the highest score per category, -1 for the whole design
	scores := categoryScores(res.Probabilities)
	checked := scores
	if lo, hi := a.cfg.Tiling.VerifyFloor, a.cfg.WholeCheckBelow; a.wholeChecks() && (inBand(scores[0], lo, hi) || inBand(scores[1], lo, hi)) {
		p, err := a.wholeCheck(ctx, src)
		if err != nil {
			return analyzers.Result{}, err
		}
		res.WholeCheck = &p
		res.VerifierVersion = a.verMan.ModelVersion()
		checked = checkedWhole(scores, categoryScores(p), lo, hi)
	}
	for i, t := range res.Tiles {
		c := tileScores(t, a.cfg.TileFloors)
		for k, v := range c {
			if v > scores[k] {
				scores[k], best[k] = v, i
			}
			checked[k] = math.Max(checked[k], v)
		}
	}
	res.Categories = Categories{SexualExplicit: scores[0], SexualSuggestive: scores[1], Drawing: scores[2]}
	if a.wholeChecks() {
		res.Checked = &Categories{SexualExplicit: checked[0], SexualSuggestive: checked[1], Drawing: checked[2]}
	}
	// Findings only for unsafe categories: drawing is a safe class and is
	// left to the result data.
	var findings []mustertype.Finding
	for k, label := range []string{CategorySexualExplicit, CategorySexualSuggestive} {
		if scores[k] < a.cfg.ReportThreshold || scores[k] == 0 {
			continue
		}
		fb := box(b)
		from := "image"
		if best[k] >= 0 {
			fb, from = res.Tiles[best[k]].Box, "tile"
		}
		findings = append(findings, mustertype.Finding{
			Type: mustertype.FindingNSFW, Analyzer: AnalyzerName, Label: label, Score: scores[k], Box: &fb,
			Attrs: mustertype.Attrs{Source: from, ModelVersion: res.ModelVersion},
		})
	}
	return analyzers.Result{
		Data:     res,
		Findings: findings,
		Versions: a.versions(),
	}, nil
}

func (a *Analyzer) versions() map[string]string {
	v := map[string]string{"model:" + a.manifest.Name: a.Version(), "nsfw:tiles": TilesVersion}
	if a.wholeChecks() {
		v["nsfw:whole"] = WholeCheckVersion
	}
	if a.ver != nil {
		v["model:"+a.verMan.Name] = a.verMan.ModelVersion()
	}
	return v
}

// wholeChecks reports whether the whole design's scores are checked
// (a second model and a band).
func (a *Analyzer) wholeChecks() bool { return a.ver != nil && a.cfg.WholeCheckBelow > 0 }

// inBand reports lo ≤ v < hi.
func inBand(v, lo, hi float64) bool { return v >= lo && v < hi }

// wholeCheck is the second model's opinion of the whole design, cut like
// a checked tile: averaged over blocks of ⌊short side / input⌋ pixels,
// then area-resized to its input (squashed, as nsfwjs squashes).
func (a *Analyzer) wholeCheck(ctx context.Context, src preprocess.Source) (Probabilities, error) {
	b := src.Bounds()
	vw, vh := a.verMan.Preprocessing.Width, a.verMan.Preprocessing.Height
	k := max(1, min(b.Dx(), b.Dy())/vw)
	small := src.BoxDownscale(k, image.Rect(0, 0, (b.Dx()+k-1)/k, (b.Dy()+k-1)/k))
	in := make([]float32, vw*vh*3)
	if err := preprocess.ResizeArea(in, small, image.Rect(0, 0, small.Width, small.Height), vw, vh); err != nil {
		return Probabilities{}, fmt.Errorf("nsfw: whole check: %w", err)
	}
	out, err := a.ver.Classify(ctx, in)
	if err != nil {
		return Probabilities{}, fmt.Errorf("nsfw: whole check: %w", err)
	}
	return probs(out[0]), nil
}

// checkedWhole is the whole design's checked category scores: an unsafe
// score in [lo, hi) becomes the geometric mean of nsfwjs's and the second
// model's (high only when both agree, as a checked tile); scores outside
// the band and drawing stay nsfwjs's.
func checkedWhole(nsfwjs, second [3]float64, lo, hi float64) [3]float64 {
	out := nsfwjs
	for k := 0; k < 2; k++ {
		if inBand(nsfwjs[k], lo, hi) {
			out[k] = round6(math.Sqrt(nsfwjs[k] * second[k]))
		}
	}
	return out
}

// verify has the second model classify the tiles that score at or above
// the verify floor (highest first, at most MaxVerify), each cut from the
// design area-averaged at the verifier's own input size.
func (a *Analyzer) verify(ctx context.Context, src preprocess.Source, res *Result) error {
	tl := a.cfg.Tiling
	if a.ver == nil || len(res.Tiles) == 0 || tl.MaxVerify == 0 {
		return nil
	}
	type cand struct {
		i     int
		score float64
	}
	var cs []cand
	for i, t := range res.Tiles {
		c := categoryScores(t.Probabilities)
		if v := math.Max(c[0], c[1]); v >= tl.VerifyFloor {
			cs = append(cs, cand{i, v})
		}
	}
	if len(cs) == 0 {
		return nil
	}
	slices.SortStableFunc(cs, func(x, y cand) int { return cmp.Compare(y.score, x.score) })
	cs = cs[:min(len(cs), tl.MaxVerify)]
	vw, vh := a.verMan.Preprocessing.Width, a.verMan.Preprocessing.Height
	boxes := make([]mustertype.Box, len(cs))
	for j, c := range cs {
		boxes[j] = res.Tiles[c.i].Box
	}
	inputs, err := verifierInputs(src, boxes, vw, vh)
	if err != nil {
		return err
	}
	out, err := a.ver.Classify(ctx, inputs...)
	if err != nil {
		return fmt.Errorf("nsfw: verifier: %w", err)
	}
	for j, c := range cs {
		p := probs(out[j])
		res.Tiles[c.i].Verifier = &p
	}
	res.VerifierVersion = a.verMan.ModelVersion()
	return nil
}

// verifierInputs cuts the tiles' boxes (all of one side) from the design
// averaged over blocks of ⌊side/input⌋ pixels and area-resizes them to
// vw×vh; only the blocks under the boxes are averaged.
func verifierInputs(src preprocess.Source, boxes []mustertype.Box, vw, vh int) ([][]float32, error) {
	k := max(1, boxes[0].W/vw)
	rect := func(b mustertype.Box) image.Rectangle {
		return image.Rect(b.X/k, b.Y/k, (b.X+b.W+k-1)/k, (b.Y+b.H+k-1)/k)
	}
	var need image.Rectangle
	for _, b := range boxes {
		need = need.Union(rect(b))
	}
	d := src.Bounds()
	need = need.Intersect(image.Rect(0, 0, (d.Dx()+k-1)/k, (d.Dy()+k-1)/k))
	small := src.BoxDownscale(k, need)
	inputs := make([][]float32, len(boxes))
	for j, b := range boxes {
		sr := rect(b).Intersect(need).Sub(need.Min)
		inputs[j] = make([]float32, vw*vh*3)
		if err := preprocess.ResizeArea(inputs[j], small, sr, vw, vh); err != nil {
			return nil, fmt.Errorf("nsfw: verifier preprocess %v: %w", sr, err)
		}
	}
	return inputs, nil
}

// TileFloors are the per-category scores below which a tile's evidence is
// ignored (the whole design's scores always count). Calibrated on
// development seeds of the harmless-design evaluation (docs/nsfw.md).
type TileFloors struct {
	SexualExplicit   float64
	SexualSuggestive float64
}

// tileScores is a tile's checked category scores: unsafe scores are the
// geometric mean of the two models' (when checked) — high only when both
// agree, and one confident model cannot carry a tile the other calls safe —
// then zero below the floors. Drawing is the tile's own.
func tileScores(t Tile, f TileFloors) [3]float64 {
	c := categoryScores(t.Probabilities)
	if t.Verifier != nil {
		m := categoryScores(*t.Verifier)
		c[0], c[1] = round6(math.Sqrt(c[0]*m[0])), round6(math.Sqrt(c[1]*m[1]))
	}
	if c[0] < f.SexualExplicit {
		c[0] = 0
	}
	if c[1] < f.SexualSuggestive {
		c[1] = 0
	}
	return c
}

// categoryScores derives sexual_explicit, sexual_suggestive and drawing.
func categoryScores(p Probabilities) [3]float64 {
	return [3]float64{round6(math.Min(1, p.Porn+p.Hentai)), p.Sexy, p.Drawing}
}

func probs(v []float32) Probabilities {
	return Probabilities{Drawing: round6(float64(v[0])), Hentai: round6(float64(v[1])), Neutral: round6(float64(v[2])), Porn: round6(float64(v[3])), Sexy: round6(float64(v[4]))}
}

// round6 keeps six decimals: well below the model's own precision, and it
// keeps stored JSON short.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func box(r image.Rectangle) mustertype.Box {
	return mustertype.Box{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy()}
}

// Open sets up the NSFW model on first use (nsfwjs fetched from npm,
// converted to ONNX, checksummed) so a fresh machine needs no manual step,
// and opens the analyzer on the shared runtime. Its session pool is sized to
// the worker's concurrency and images from concurrent analyses are batched
// dynamically. It is the analyzer's entry in the registry.
func Open(ctx context.Context, d analyzers.Deps) (analyzers.Analyzer, func() error, error) {
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: d.ModelsDir, CacheDir: d.CacheDir, ORTLib: d.ORTLib, Logger: d.Logger,
		Models: []string{models.NSFWModel, models.NSFWModelInception}})
	if err != nil {
		return nil, nil, fmt.Errorf("analyzer nsfw: %w", err)
	}
	rt, err := d.Runtime(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("analyzer nsfw: %w", err)
	}
	a, err := New(rt, Config{ModelsDir: inst.ModelsDir,
		Session: models.SessionConfig{Sessions: d.Concurrency, IntraOpThreads: d.OrtThreads, Logger: d.Logger}})
	if err != nil {
		return nil, nil, err
	}
	return a, a.Close, nil
}
