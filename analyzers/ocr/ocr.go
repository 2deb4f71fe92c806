// Package ocr is the "ocr" analyzer: it reads the text in a design with
// PaddleOCR's PP-OCRv4 models (models/ocr) and screens it with the same
// matcher as the listing text (analyzers/words), so a word mark, a banned
// slogan or a hate code printed on the design is a finding with field
// "image" and the box where it was read, and the policy decides per market.
// The stored result is mustertype.OCRResult.
package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/textmatch"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/models"
	ocrmodel "github.com/muster-dev/muster/models/ocr"
	"github.com/muster-dev/muster/mustertype"
)

// Name is the analyzer's name.
const Name = mustertype.AnalyzerOCR

// Version is the analyzer's logic version (the models' versions are in
// the result and in Result.Versions). ocr-6 corrected phrases across
// regions; ocr-7 also leaves texture dots out before MaxRegions (the two
// were built on separate branches, each as ocr-6, and merged); ocr-8
// follows a short word on a tight arc (a thick band that fills its box)
// along its centre line when that line turns; ocr-10 is the merge of two
// branches that each claimed ocr-9: it finds the circle of a short code on
// a tight arc from its letters' leaning axes and reads each letter from its
// own upright crop, and it lists a phrase with ß also with its ß read as
// the recogniser writes it, a capital B; ocr-11 puts at most 0.3 text
// heights between the letters of a tight arc's glyph crops unless the gap
// is a word space ("1 4" was not the code 14).
const Version = "ocr-11"

// Field is the finding field of text read from the image.
const Field = "image"

// Analyzer reads and screens the text in designs.
type Analyzer struct {
	eng *ocrmodel.Engine
	s   *words.Screener
	// why is set when eng is nil: the reason every design is reported
	// incomplete.
	why string
	// corr reads reviewers' "not this mark" corrections (nil: none).
	corr bank.Corrector
}

// WithCorrections makes the analyzer leave out the marks and phrases
// reviewers marked wrong for the text read from the same design bytes
// (source ocr), read from c on every analysis; it returns a.
func (a *Analyzer) WithCorrections(c bank.Corrector) *Analyzer {
	a.corr = c
	return a
}

// New returns the analyzer over an engine and a screener. A nil engine
// (the models could not be loaded) makes every analysis report an
// incomplete finding with the reason, so the policy holds the design for
// review instead of allowing text it never read.
func New(eng *ocrmodel.Engine, s *words.Screener, why string) *Analyzer {
	if eng == nil && why == "" {
		why = "ocr model unavailable"
	}
	return &Analyzer{eng: eng, s: s, why: why}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Version implements analyzers.Analyzer.
func (a *Analyzer) Version() string {
	if a.eng == nil {
		return Version + "+" + words.Version
	}
	return Version + "+" + words.Version + "+" + ocrmodel.ModelName + "@" + ocrmodel.PackageVersion
}

// Analyze implements analyzers.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	if d == nil || d.Image == nil || d.Image.NRGBA == nil {
		return analyzers.Result{}, errors.New("ocr: no image")
	}
	res := analyzers.Result{Versions: a.s.Versions()}
	if a.eng == nil {
		res.Data = mustertype.OCRResult{Lines: []mustertype.OCRLine{}}
		res.Findings = []mustertype.Finding{{Type: mustertype.FindingIncomplete, Analyzer: Name, Label: a.why}}
		return res, nil
	}
	read, err := a.eng.ReadImage(ctx, d.Image)
	if err != nil {
		return analyzers.Result{}, fmt.Errorf("ocr: %w", err)
	}
	data, findings := Screen(a.s, read, a.eng.Versions())
	if findings, err = a.applyCorrections(ctx, d, &data, findings); err != nil {
		return analyzers.Result{}, err
	}
	for role, v := range data.Models {
		res.Versions["model:"+ocrmodel.ModelName+"-"+role] = v
	}
	res.Findings = findings
	res.Findings = append(res.Findings, a.s.Incomplete(Name)...)
	if read.Dropped > 0 {
		// Text the engine did not read may say anything: hold for review.
		res.Findings = append(res.Findings, mustertype.Finding{Type: mustertype.FindingIncomplete, Analyzer: Name,
			Label: fmt.Sprintf("%d of %d text regions not read (too many)", read.Dropped, read.Regions)})
	}
	res.Data = data
	return res, nil
}

// Screen screens what the engine read: the lines joined in reading order
// (a match's box is the union of the lines it spans, a slogan may run over
// two lines), the findings of the screener with field "image" (see
// OnDesign), and the stored result with the word marks the design carries.
// The analyzer and the evaluation (eval/text) decide on exactly this.
func Screen(s *words.Screener, read ocrmodel.Result, models map[string]string) (mustertype.OCRResult, []mustertype.Finding) {
	data := mustertype.OCRResult{Lines: []mustertype.OCRLine{}, Models: models}
	var findings []mustertype.Finding
	// One text, lines in reading order; a match's box is the union of the
	// lines it spans (a slogan may run over two lines).
	type span struct {
		start, end int
		box        mustertype.Box
	}
	var spans []span
	var texts []string
	off := 0
	for _, l := range read.Lines {
		ol := mustertype.OCRLine{Text: l.Text, Score: round(l.Score), Box: boxOf(l.Box)}
		for _, p := range l.Polygon {
			ol.Polygon = append(ol.Polygon, mustertype.Point{X: float64(p.X), Y: float64(p.Y)})
		}
		data.Lines = append(data.Lines, ol)
		n := len([]rune(l.Text))
		spans = append(spans, span{off, off + n, ol.Box})
		texts = append(texts, l.Text)
		off += n + 1
	}
	data.Text = strings.Join(texts, "\n")
	boxFor := func(start, end int) *mustertype.Box {
		var r image.Rectangle
		for _, s := range spans {
			if s.end > start && s.start < end {
				br := image.Rect(s.box.X, s.box.Y, s.box.X+s.box.W, s.box.Y+s.box.H)
				if r.Empty() {
					r = br
				} else {
					r = r.Union(br)
				}
			}
		}
		if r.Empty() {
			return nil
		}
		b := boxOf(r)
		return &b
	}
	if data.Text != "" {
		findings = OnDesign(s.ScreenWith(Name, Field, data.Text, boxFor), data.Text)
	}
	for _, f := range findings {
		if f.Type != mustertype.FindingTrademark && f.Type != mustertype.FindingCustom {
			continue
		}
		if f.Attrs.Generic && !f.Attrs.Standalone {
			// An ordinary word in running text ("But first, coffee"):
			// recorded as a finding below the review threshold, not listed
			// as a word mark the design carries (the pack reviews those).
			continue
		}
		data.WordMarks = append(data.WordMarks, mustertype.WordMarkHit{Mark: f.Label, EntryID: f.EntryID,
			Jurisdictions: f.Attrs.Jurisdictions, Classes: f.Attrs.Classes, Famous: f.Attrs.Famous})
	}
	return data, findings
}

// applyCorrections leaves out the marks and phrases a reviewer marked wrong
// for the text read from these design bytes (source ocr), from the
// findings and the word marks the design carries, and lists them in
// data.Corrected. When the corrections cannot be read every finding is
// kept (fail closed) and data.CorrectionsError says why; only a cancelled
// ctx is an error.
func (a *Analyzer) applyCorrections(ctx context.Context, d *analyzers.Design, data *mustertype.OCRResult, findings []mustertype.Finding) ([]mustertype.Finding, error) {
	if a.corr == nil || d.SHA256 == "" || len(findings) == 0 {
		return findings, nil
	}
	corrected, err := a.corr.CorrectedFor(ctx, mustertype.CorrectionOCR, d.SHA256, d.TenantID)
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, err
	case err != nil:
		data.CorrectionsError = err.Error()
		return findings, nil
	}
	findings, data.Corrected = bank.DropCorrected(findings, corrected)
	if len(data.Corrected) > 0 {
		data.WordMarks = slices.DeleteFunc(data.WordMarks, func(w mustertype.WordMarkHit) bool {
			return !slices.ContainsFunc(findings, func(f mustertype.Finding) bool { return f.EntryID == w.EntryID && f.Label == w.Mark })
		})
	}
	return findings, nil
}

// OnDesign adjusts text findings to what "standalone" means on a design. The
// matcher calls a mark standalone when it is the whole of its line; but the
// lines of a design are where its layout breaks them ("GO / OUTSIDE",
// "JUST / BREATHE" stacked one word a line), so an ordinary word that is a
// brand (Go, Just, Make, Apple) would stand alone in every stacked slogan.
// On a design a generic mark stands alone only when it is all the design
// says; otherwise it is generic in running text (below the review
// threshold, never block grade). Distinctive marks and phrases are left as
// they are.
func OnDesign(fs []mustertype.Finding, text string) []mustertype.Finding {
	all := letters(text)
	for i := range fs {
		f := &fs[i]
		if f.Type != mustertype.FindingTrademark && f.Type != mustertype.FindingCustom {
			continue
		}
		if !f.Attrs.Generic || !f.Attrs.Standalone || letters(f.Attrs.Text) == all {
			continue
		}
		f.Attrs.Standalone, f.Attrs.BlockGrade = false, false
		f.Score = words.ScoreGeneric
	}
	return fs
}

// letters is s folded to upper-case letters and digits.
func letters(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func boxOf(r image.Rectangle) mustertype.Box {
	return mustertype.Box{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy()}
}

func round(v float64) float64 { return float64(int(v*10000+0.5)) / 10000 }

// Open opens the analyzer for the registry: the OCR models are installed
// (fetched and checksummed) into the models directory and opened on the
// shared ONNX Runtime with a session pool sized to the worker's
// concurrency; the banks' word marks come from the database and are
// reloaded on every announced bank change. A runtime or model that cannot
// be set up fails the start: a worker that cannot read text does not
// start.
func Open(ctx context.Context, d analyzers.Deps) (analyzers.Analyzer, func() error, error) {
	if d.Pool == nil {
		return nil, nil, errors.New("analyzer ocr: no database")
	}
	modelsDir := d.ModelsDir
	if modelsDir == "" {
		modelsDir = models.DefaultModelsDir
	}
	cacheDir := d.CacheDir
	if cacheDir == "" {
		cacheDir = npmfetch.DefaultCacheDir(os.Getenv)
	}
	if _, err := ocrmodel.Install(ctx, cacheDir, modelsDir); err != nil {
		return nil, nil, fmt.Errorf("analyzer ocr: %w", err)
	}
	rt, err := d.Runtime(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("analyzer ocr: %w", err)
	}
	// The lexicon holds common words and the phrase bank's words, not
	// brand names: a lexicon with marks keeps a doubtful reading that
	// happens to spell a mark ("Gocd" for a distressed "Good", GoCD), so
	// correction would lean towards brands and false flags. The matcher's
	// own fuzzy pass finds marks (measured: marks in the lexicon added
	// nothing on development seed 1; docs/ocr.md).
	lex, err := Lexicon(textmatch.DefaultWordsPath, nil)
	if err != nil {
		// The screener fails closed without the word list (every design
		// incomplete); the engine reads without correction.
		if d.Logger != nil {
			d.Logger.Warn("ocr: reading without a lexicon", "err", err)
		}
		lex = nil
	}
	eng, err := ocrmodel.Open(rt, ocrmodel.Config{ModelsDir: modelsDir, Lexicon: lex,
		Pool: models.PoolConfig{Sessions: d.Concurrency, IntraOpThreads: d.OrtThreads}})
	if err != nil {
		return nil, nil, fmt.Errorf("analyzer ocr: %w", err)
	}
	s, err := words.Open(ctx, bank.NewStore(d.Pool, nil), words.Config{Logger: d.Logger})
	if err != nil {
		_ = eng.Close()
		return nil, nil, fmt.Errorf("analyzer ocr: %w", err)
	}
	if d.NATS != nil {
		if err := s.Watch(ctx, d.NATS); err != nil {
			_ = eng.Close()
			return nil, nil, err
		}
	}
	return New(eng, s, "").WithCorrections(bank.NewStore(d.Pool, nil)), eng.Close, nil
}
