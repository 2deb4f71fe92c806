// Package nsfw is Muster's NSFW analyzer: the nsfwjs MobileNetV2 classifier,
// converted to ONNX, run on the whole design and on overlapping tiles so a
// small explicit element on a large print file is not averaged away.
package nsfw

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"

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

// Config configures the analyzer.
type Config struct {
	// ModelsDir is where Setup installed the models (default models.DefaultModelsDir).
	ModelsDir string
	// Model is the model to load (default models.NSFWModel).
	Model string
	// Session sizes the session pool and batching; set Sessions to the
	// worker's concurrency.
	Session models.SessionConfig
	// Tiling controls the tiles classified besides the whole design.
	Tiling Tiling
	// ReportThreshold is the lowest category score that becomes a Finding
	// (default DefaultReportThreshold). The policy decides; this only keeps
	// near-zero noise out of the findings.
	ReportThreshold float64
	// Background is what transparent pixels are composited onto (default white,
	// the colour of most print substrates).
	Background color.Color
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.ModelsDir == "" {
		c.ModelsDir = models.DefaultModelsDir
	}
	if c.Model == "" {
		c.Model = models.NSFWModel
	}
	c.Session = c.Session.WithDefaults()
	c.Tiling = c.Tiling.WithDefaults()
	if c.ReportThreshold == 0 {
		c.ReportThreshold = DefaultReportThreshold
	}
	if c.Background == nil {
		c.Background = color.White
	}
	return c
}

// Validate checks a defaulted config.
func (c Config) Validate() error {
	if c.ReportThreshold < 0 || c.ReportThreshold > 1 {
		return fmt.Errorf("nsfw config: report threshold %v outside 0..1", c.ReportThreshold)
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
	if len(m.Labels) != 5 || m.Labels[0] != "drawing" || m.Labels[4] != "sexy" {
		_ = clf.Close()
		return nil, fmt.Errorf("nsfw analyzer: model %s has labels %v, want nsfwjs's five classes", m.Name, m.Labels)
	}
	return &Analyzer{cfg: cfg, clf: clf, manifest: m}, nil
}

// Name is "nsfw".
func (a *Analyzer) Name() string { return AnalyzerName }

// Version is the model's version, e.g. "nsfwjs-mobilenet_v2@4.4.0+daf81fc3ffe1".
func (a *Analyzer) Version() string { return a.manifest.ModelVersion() }

// Classifier exposes the underlying classifier (stats, benchmarks).
func (a *Analyzer) Classifier() *models.Classifier { return a.clf }

// Close releases the sessions.
func (a *Analyzer) Close() error { return a.clf.Close() }

// Analyze classifies the whole design and its tiles.
func (a *Analyzer) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d == nil || d.Image == nil || d.Image.NRGBA == nil {
		return analyzers.Result{}, errors.New("nsfw: design has no decoded image")
	}
	px := preprocess.FromImage(d.Image, a.cfg.Background)
	w, h := a.manifest.Preprocessing.Width, a.manifest.Preprocessing.Height
	rects := append([]image.Rectangle{image.Rect(0, 0, px.Width, px.Height)}, a.cfg.Tiling.Tiles(px.Width, px.Height, w)...)
	inputs := make([][]float32, len(rects))
	for i, r := range rects {
		inputs[i] = make([]float32, w*h*3)
		if err := preprocess.ResizeBilinear(inputs[i], px, r, w, h, a.manifest.Preprocessing.AlignCorners); err != nil {
			return analyzers.Result{}, fmt.Errorf("nsfw: preprocess %v: %w", r, err)
		}
	}
	out, err := a.clf.Classify(ctx, inputs...)
	if err != nil {
		return analyzers.Result{}, fmt.Errorf("nsfw: classify: %w", err)
	}
	res := Result{
		Model:         a.manifest.Name,
		ModelVersion:  a.Version(),
		Probabilities: probs(out[0]),
		Tiles:         make([]Tile, 0, len(rects)-1),
	}
	best := [3]int{} // index into rects of the highest score per category
	var scores [3]float64
	for i, r := range rects {
		p := probs(out[i])
		if i > 0 {
			res.Tiles = append(res.Tiles, Tile{Box: box(r), Probabilities: p})
		}
		for k, v := range categoryScores(p) {
			if i == 0 || v > scores[k] {
				scores[k], best[k] = v, i
			}
		}
	}
	res.Categories = Categories{SexualExplicit: scores[0], SexualSuggestive: scores[1], Drawing: scores[2]}
	var findings []mustertype.Finding
	for k, label := range []string{CategorySexualExplicit, CategorySexualSuggestive, CategoryDrawing} {
		if scores[k] < a.cfg.ReportThreshold {
			continue
		}
		b := box(rects[best[k]])
		src := "image"
		if best[k] > 0 {
			src = "tile"
		}
		findings = append(findings, mustertype.Finding{
			Type: mustertype.FindingNSFW, Analyzer: AnalyzerName, Label: label, Score: scores[k], Box: &b,
			Attrs: mustertype.Attrs{Source: src, ModelVersion: res.ModelVersion},
		})
	}
	return analyzers.Result{
		Data:     res,
		Findings: findings,
		Versions: map[string]string{"model:" + a.manifest.Name: a.Version()},
	}, nil
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
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: d.ModelsDir, CacheDir: d.CacheDir, ORTLib: d.ORTLib, Logger: d.Logger})
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
