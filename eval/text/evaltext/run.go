package evaltext

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	ocranalyzer "github.com/muster-dev/muster/analyzers/ocr"
	"github.com/muster-dev/muster/analyzers/words"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/textmatch"
	"github.com/muster-dev/muster/bank/wordmarks"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/ocr"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
)

// Env is what an evaluation runs with: the OCR engine, the screener over
// the real word marks and phrase bank, and the default policy pack.
type Env struct {
	Engine   *ocr.Engine
	Screener *words.Screener
	Policy   *policy.Compiled
	Content  map[string]Content // per set: "dev", "val" (the development content), "test"
	Runtime  *models.Runtime
	Root     string
	CacheDir string
	// TessCache holds Tesseract's readings (empty: no cache).
	TessCache string
	// ReadingsOut, when set, gets every Muster reading of Evaluate, one
	// line a design: its ID, a tab and the text quoted (-readings: two
	// versions' readings compared with diff).
	ReadingsOut io.Writer
	// BenchSequential makes Bench also time, on the same files in the same
	// rounds, an engine with Config.Parallel 1 (Read's Go work on the
	// caller's goroutine): the parallel work's gain, measured under the same
	// load.
	BenchSequential bool
}

// Options are an evaluation's ablations.
type Options struct {
	// LexiconMarks adds the default bank's word marks to the engine's
	// lexicon (an ablation: the analyzer leaves them out).
	LexiconMarks bool
	// NoLexiconPhrases leaves the phrase bank's phrases out of the
	// lexicon (an ablation: no correction of a line as a whole phrase).
	NoLexiconPhrases bool
}

// Open sets up the environment; cfg configures the OCR engine.
func Open(ctx context.Context, cfg ocr.Config) (*Env, error) { return OpenWith(ctx, cfg, Options{}) }

// OpenWith is Open with ablations.
func OpenWith(ctx context.Context, cfg ocr.Config, opt Options) (*Env, error) {
	me, err := modeltest.Open(ctx)
	if err != nil {
		return nil, err
	}
	cache := npmfetch.DefaultCacheDir(os.Getenv)
	if !filepath.IsAbs(cache) {
		cache = filepath.Join(me.Root, cache)
	}
	cfg.ModelsDir = filepath.Join(me.Root, models.DefaultModelsDir)
	if _, err := ocr.Install(ctx, cache, cfg.ModelsDir); err != nil {
		return nil, err
	}
	wm, err := wordmarks.Load(ctx, cache)
	if err != nil {
		return nil, err
	}
	if cfg.Lexicon == nil && cfg.LexiconMargin >= 0 {
		// As the analyzer reads (ocranalyzer.Open): the word list and the
		// phrase bank's words; the word marks only with LexiconMarks.
		var marks []string
		if opt.LexiconMarks {
			for _, ms := range wm.Map() {
				marks = append(marks, ms...)
			}
		}
		if cfg.Lexicon, err = ocranalyzer.Lexicon(textmatch.DefaultWordsPath, marks); err != nil {
			return nil, err
		}
		if opt.NoLexiconPhrases {
			cfg.Lexicon = cfg.Lexicon.WithPhrases(nil)
		}
	}
	eng, err := ocr.Open(me.Runtime, cfg)
	if err != nil {
		return nil, err
	}
	src := memEntries{}
	for slug, marks := range wm.Map() {
		src = append(src, bank.TextEntry{Bank: bank.SimpleIconsBank, Kind: bank.KindTrademark, ID: slug, Label: slug,
			Jurisdictions: bank.DefaultTrademarkJurisdictions, Classes: bank.DefaultTrademarkClasses, WordMarks: marks})
	}
	s, err := words.Open(ctx, src, words.Config{})
	if err != nil {
		return nil, err
	}
	doc, err := policy.DefaultDocument()
	if err != nil {
		return nil, err
	}
	pol, err := policy.Compile(doc, "default", policy.Config{})
	if err != nil {
		return nil, err
	}
	env := &Env{Engine: eng, Screener: s, Policy: pol, Runtime: me.Runtime, Root: me.Root, CacheDir: cache, Content: map[string]Content{},
		TessCache: filepath.Join(me.Root, "var", "cache", "eval-text-tesseract")}
	env.Content["dev"], env.Content["test"] = brands(s, wm.Map())
	// Validation designs (unseen fonts) say what development designs say.
	env.Content["val"] = env.Content["dev"]
	return env, nil
}

// Close releases the engine and runtime.
func (e *Env) Close() {
	_ = e.Engine.Close()
	_ = e.Runtime.Close()
}

type memEntries []bank.TextEntry

func (m memEntries) TextEntries(context.Context) ([]bank.TextEntry, map[string]int64, error) {
	return m, map[string]int64{bank.SimpleIconsBank: 1}, nil
}

// brands picks distinctive marks a merchant would print — Latin letters,
// 4–14 characters, that the screener finds at block grade on their own —
// and splits them between the sets (alternating in slug order).
func brands(s *words.Screener, marks map[string][]string) (Content, Content) {
	slugs := make([]string, 0, len(marks))
	for slug := range marks {
		slugs = append(slugs, slug)
	}
	sort.Strings(slugs)
	var dev, test Content
	k := 0
	for _, slug := range slugs {
		m := marks[slug][0]
		if n := len([]rune(m)); n < 4 || n > 14 || !latin(m) {
			continue
		}
		ok := false
		for _, f := range s.Screen("eval", "image", "I LOVE "+strings.ToUpper(m), nil) {
			if f.EntryID == slug && f.Attrs.BlockGrade && !f.Attrs.Generic {
				ok = true
			}
		}
		if !ok {
			continue
		}
		if k%2 == 0 {
			dev.Brands = append(dev.Brands, [2]string{slug, m})
		} else {
			test.Brands = append(test.Brands, [2]string{slug, m})
		}
		k++
	}
	return dev, test
}

func latin(s string) bool {
	for _, r := range s {
		if !(r == ' ' || (r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)))) {
			return false
		}
	}
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

// Reading is one system's reading of one design.
type Reading struct {
	Text    string
	Time    time.Duration
	Infer   time.Duration // time inside ONNX Runtime (Muster only)
	Engine  time.Duration // time inside Engine.Read (bench: Time also has the file read and decode)
	Decode  time.Duration // bench: the file read and decode
	Err     error
	Cached  bool // a cached reading (Tesseract): Time is from the run that made it
	Words   int  // truth words found
	Total   int  // truth words
	Edits   int  // character edits to the truth
	Chars   int  // truth characters
	Entry   bool
	Markets map[string]string
}

// ReadMuster reads a design with the engine through the one decoding path.
func (e *Env) ReadMuster(ctx context.Context, d Design) Reading {
	img, err := imaging.Decode(d.Data, "", imaging.Limits{})
	if err != nil {
		return Reading{Err: err}
	}
	t := time.Now()
	res, err := e.Engine.ReadImage(ctx, img)
	if err != nil {
		return Reading{Err: err}
	}
	return Reading{Text: res.Text(), Time: time.Since(t), Infer: res.Inference}
}

// ReadTesseract reads a design with Tesseract 5 (page segmentation mode
// psm: 11, sparse text, suits designs best of its modes). Readings are
// cached in cacheDir (when not empty) by the image's sha256, the mode and
// Tesseract's version: Tesseract does not change while Muster is tuned, and
// re-reading every design with it doubles an evaluation's time. A cached
// reading keeps the time of the run that made it (Cached is set).
func ReadTesseract(ctx context.Context, d Design, dir, cacheDir string, psm int) Reading {
	var key string
	if cacheDir != "" {
		h := sha256.Sum256(d.Data)
		key = filepath.Join(cacheDir, fmt.Sprintf("%s-psm%d-%s.json", hex.EncodeToString(h[:12]), psm, tesseractVersion(ctx)))
		if b, err := os.ReadFile(key); err == nil {
			var c struct {
				Text string
				NS   int64
			}
			if json.Unmarshal(b, &c) == nil {
				return Reading{Text: c.Text, Time: time.Duration(c.NS), Cached: true}
			}
		}
	}
	path := filepath.Join(dir, d.ID+"."+d.Format)
	if err := os.WriteFile(path, d.Data, 0o644); err != nil {
		return Reading{Err: err}
	}
	defer os.Remove(path)
	t := time.Now()
	cmd := exec.CommandContext(ctx, "tesseract", path, "stdout", "--psm", fmt.Sprint(psm), "-l", "eng")
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=2")
	out, err := cmd.Output()
	if err != nil {
		return Reading{Err: fmt.Errorf("tesseract: %w", err)}
	}
	r := Reading{Text: strings.TrimSpace(string(out)), Time: time.Since(t)}
	if key != "" {
		b, _ := json.Marshal(struct {
			Text string
			NS   int64
		}{r.Text, int64(r.Time)})
		if os.MkdirAll(cacheDir, 0o755) == nil {
			tmp := key + ".tmp"
			if os.WriteFile(tmp, b, 0o644) == nil {
				_ = os.Rename(tmp, key)
			}
		}
	}
	return r
}

var (
	tessVerOnce sync.Once
	tessVer     string
)

// tesseractVersion is the installed Tesseract's version ("5.3.0"), part
// of the cache key.
func tesseractVersion(ctx context.Context) string {
	tessVerOnce.Do(func() {
		out, err := exec.CommandContext(ctx, "tesseract", "--version").CombinedOutput()
		tessVer = "unknown"
		if err == nil {
			if f := strings.Fields(string(out)); len(f) >= 2 {
				tessVer = strings.TrimPrefix(f[1], "v")
			}
		}
	})
	return tessVer
}

// Score fills the reading's accuracy and decisions against the design.
func (e *Env) Score(ctx context.Context, d Design, r *Reading) error {
	truth := normWords(d.Text())
	got := normWords(r.Text)
	r.Total, r.Words = len(truth), matchWords(truth, got)
	ts, gs := []rune(strings.Join(truth, " ")), []rune(strings.Join(got, " "))
	r.Chars, r.Edits = len(ts), levenshtein(ts, gs)
	// Screen and decide exactly as the ocr analyzer does: its findings and
	// its stored result (the word marks the design carries) go to the
	// policy.
	var read ocr.Result
	for _, l := range strings.Split(r.Text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			read.Lines = append(read.Lines, ocr.Line{Text: l})
		}
	}
	data, fs := ocranalyzer.Screen(e.Screener, read, nil)
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.EntryID == d.Entry {
			r.Entry = true
		}
	}
	dec, err := e.Policy.Decide(ctx, policy.Input{DesignID: d.ID, Product: "tshirt", Markets: Markets(d), Findings: fs,
		Analyses: map[string]json.RawMessage{mustertype.AnalyzerOCR: raw}})
	if err != nil {
		return err
	}
	r.Markets = map[string]string{}
	for _, m := range dec.Markets {
		r.Markets[m.Market] = m.Outcome
	}
	return nil
}

// Flagged reports whether a reading is held (review or block) in any
// market.
func Flagged(r Reading) bool {
	for _, o := range r.Markets {
		if o != mustertype.Allow {
			return true
		}
	}
	return false
}

// Markets are the markets a design of its kind is decided for.
func Markets(d Design) []string {
	switch d.Kind {
	case KindBrand:
		return []string{"US", "DE", "BR"}
	case KindSlogan, KindCode:
		return []string{"DE", "AT", "US"}
	}
	return []string{"DE", "US"}
}

// Expected is what the law and the pack require for a slogan or code
// design: block where a statute bans the phrase, review elsewhere.
func Expected(d Design, market string) string {
	if d.Kind == KindSlogan && slices.Contains(d.Banned, market) {
		return mustertype.Block
	}
	return mustertype.Review
}

// normWords splits text into upper-case words with diacritics folded
// (Ü → U, ß → SS): the matcher folds them too, and the model's dictionary
// lacks some (ß, ö), so a reading is not counted wrong for them.
func normWords(s string) []string {
	s = strings.ReplaceAll(strings.ToUpper(s), "ß", "SS")
	if t, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s); err == nil {
		s = t
	}
	f := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	return f
}

// matchWords counts truth words found among got (each used once).
func matchWords(truth, got []string) int {
	left := map[string]int{}
	for _, g := range got {
		left[g]++
	}
	n := 0
	for _, t := range truth {
		if left[t] > 0 {
			left[t]--
			n++
		}
	}
	return n
}

func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Wilson is the 95 % Wilson score interval of k successes in n.
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959964
	p := float64(k) / float64(n)
	den := 1 + z*z/float64(n)
	c := (p + z*z/(2*float64(n))) / den
	h := z * math.Sqrt(p*(1-p)/float64(n)+z*z/(4*float64(n)*float64(n))) / den
	return math.Max(0, c-h), math.Min(1, c+h)
}

// Tally sums one system's readings.
type Tally struct {
	Words, Total, Edits, Chars int
	Designs                    int
	Errors                     int
}

func (t *Tally) add(r Reading) {
	t.Designs++
	if r.Err != nil {
		t.Errors++
	}
	t.Words += r.Words
	t.Total += r.Total
	t.Edits += r.Edits
	t.Chars += r.Chars
}

// Recall is the word recall.
func (t Tally) Recall() float64 { return ratio(t.Words, t.Total) }

// CER is the character error rate.
func (t Tally) CER() float64 { return ratio(t.Edits, t.Chars) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Count is k of n.
type Count struct{ K, N int }

func (c *Count) add(ok bool) {
	c.N++
	if ok {
		c.K++
	}
}

// String is "k/n = p % [lo, hi]".
func (c Count) String() string {
	if c.N == 0 {
		return "—"
	}
	lo, hi := Wilson(c.K, c.N)
	return fmt.Sprintf("%d/%d = %5.1f%% [%4.1f, %5.1f]", c.K, c.N, 100*float64(c.K)/float64(c.N), 100*lo, 100*hi)
}

// SetReport is the evaluation of one set for both systems.
type SetReport struct {
	Set               string
	Muster, Tess      map[string]*Tally // per style, "all" too
	MusterWR, TessWR  map[string]*Count // word recall as counts (for intervals)
	MarkM, MarkT      map[string]*Count // word-mark recall (brand designs), per style and "all"
	SloganM, SloganT  map[string]*Count // slogan/code (design, market) decided as required
	FlagM, FlagT      map[string]*Count // ordinary designs flagged in any market
	MusterTimes       map[string][]time.Duration
	MusterInfer       []time.Duration
	MusterTotal       []time.Duration
	TessTimes         map[string][]time.Duration
	Failures          []string
	HaveTesseract     bool
	TessCached        int    // Tesseract readings taken from the cache
	Interrupted       string // set when the run was stopped before the end
	DesignsPerStyle   map[string]int
	MusterWordsStyled map[string]Count
}

// Evaluate reads every design with both systems (alternating, so machine
// load affects both alike) and scores them.
func (e *Env) Evaluate(ctx context.Context, set string, designs []Design, tess bool, psm int, verbose io.Writer) (*SetReport, error) {
	rep := &SetReport{Set: set, Muster: map[string]*Tally{}, Tess: map[string]*Tally{}, MusterWR: map[string]*Count{}, TessWR: map[string]*Count{},
		MusterTimes: map[string][]time.Duration{}, TessTimes: map[string][]time.Duration{}, HaveTesseract: tess,
		MarkM: map[string]*Count{}, MarkT: map[string]*Count{}, SloganM: map[string]*Count{}, SloganT: map[string]*Count{},
		FlagM: map[string]*Count{}, FlagT: map[string]*Count{}}
	tmp, err := os.MkdirTemp("", "muster-eval-text-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	get := func(m map[string]*Tally, k string) *Tally {
		if m[k] == nil {
			m[k] = &Tally{}
		}
		return m[k]
	}
	getc := func(m map[string]*Count, k string) *Count {
		if m[k] == nil {
			m[k] = &Count{}
		}
		return m[k]
	}
	for i, d := range designs {
		if ctx.Err() != nil {
			// Interrupted: report the designs read so far.
			rep.Interrupted = fmt.Sprintf("interrupted after %d of %d designs", i, len(designs))
			break
		}
		if i%20 == 0 {
			fmt.Fprintf(os.Stderr, "eval-text: %s %d/%d\n", set, i, len(designs))
		}
		mr := e.ReadMuster(ctx, d)
		if mr.Err != nil && ctx.Err() != nil {
			rep.Interrupted = fmt.Sprintf("interrupted after %d of %d designs", i, len(designs))
			break
		}
		if mr.Err != nil {
			return nil, fmt.Errorf("%s: %w", d.ID, mr.Err)
		}
		if e.ReadingsOut != nil {
			fmt.Fprintf(e.ReadingsOut, "%s\t%q\n", d.ID, mr.Text)
		}
		if err := e.Score(ctx, d, &mr); err != nil {
			return nil, err
		}
		var tr Reading
		if tess {
			tr = ReadTesseract(ctx, d, tmp, e.TessCache, psm)
			if tr.Err != nil && ctx.Err() != nil {
				rep.Interrupted = fmt.Sprintf("interrupted after %d of %d designs", i, len(designs))
				break
			}
			if tr.Err != nil {
				return nil, fmt.Errorf("%s: %w", d.ID, tr.Err)
			}
			if tr.Cached {
				rep.TessCached++
			}
			if err := e.Score(ctx, d, &tr); err != nil {
				return nil, err
			}
		}
		for _, k := range []string{d.Style, "all"} {
			get(rep.Muster, k).add(mr)
			getc(rep.MusterWR, k).K += mr.Words
			getc(rep.MusterWR, k).N += mr.Total
			if tess {
				get(rep.Tess, k).add(tr)
				getc(rep.TessWR, k).K += tr.Words
				getc(rep.TessWR, k).N += tr.Total
			}
		}
		sizeKey := "design"
		if d.Style == "print_file" {
			sizeKey = "print_file"
		}
		rep.MusterTimes[sizeKey] = append(rep.MusterTimes[sizeKey], mr.Time)
		rep.MusterInfer = append(rep.MusterInfer, mr.Infer)
		rep.MusterTotal = append(rep.MusterTotal, mr.Time)
		if tess && !tr.Cached {
			rep.TessTimes[sizeKey] = append(rep.TessTimes[sizeKey], tr.Time)
		}
		for _, k := range []string{d.Style, "all"} {
			switch d.Kind {
			case KindBrand:
				getc(rep.MarkM, k).add(mr.Entry)
				if tess {
					getc(rep.MarkT, k).add(tr.Entry)
				}
			case KindSlogan, KindCode:
				for _, m := range Markets(d) {
					getc(rep.SloganM, k).add(mr.Markets[m] == Expected(d, m))
					if tess {
						getc(rep.SloganT, k).add(tr.Markets[m] == Expected(d, m))
					}
				}
			case KindOrdinary:
				getc(rep.FlagM, k).add(Flagged(mr))
				if tess {
					getc(rep.FlagT, k).add(Flagged(tr))
				}
			}
		}
		if d.Kind == KindOrdinary && Flagged(mr) {
			line := fmt.Sprintf("%s %-13s flagged  truth %q read %q → %v", d.ID, d.Style, d.Text(), mr.Text, mr.Markets)
			rep.Failures = append(rep.Failures, line)
			if verbose != nil {
				fmt.Fprintln(verbose, "  flag:", line)
			}
		}
		if (d.Kind == KindSlogan || d.Kind == KindCode) && verbose != nil {
			for _, m := range Markets(d) {
				if mr.Markets[m] != Expected(d, m) {
					fmt.Fprintf(verbose, "  slogan: %s %-13s %s got %s want %s; truth %q read %q\n", d.ID, d.Style, m, mr.Markets[m], Expected(d, m), d.Text(), mr.Text)
					break
				}
			}
		}
		if mr.Words < mr.Total || (d.Kind == KindBrand && !mr.Entry) {
			line := fmt.Sprintf("%s %-13s %-8s truth %q read %q (fonts %s)", d.ID, d.Style, d.Kind, d.Text(), mr.Text, strings.Join(d.Fonts, ", "))
			rep.Failures = append(rep.Failures, line)
			if verbose != nil {
				fmt.Fprintln(verbose, "  miss:", line)
			}
		}
	}
	return rep, nil
}

// Print writes the set's report.
func (r *SetReport) Print(w io.Writer) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if r.Muster["all"] == nil {
		fmt.Fprintf(bw, "\n== %s set: no design read (%s) ==\n", r.Set, r.Interrupted)
		return
	}
	fmt.Fprintf(bw, "\n== %s set: %d designs ==\n", r.Set, r.Muster["all"].Designs)
	if r.Interrupted != "" {
		fmt.Fprintf(bw, "(%s: a prefix of the set, every style in turn)\n", r.Interrupted)
	}
	fmt.Fprintf(bw, "%-14s %4s | %-34s %-34s %7s | %7s %7s %7s\n", "style", "n", "word recall Muster [95% CI]", "word recall Tesseract [95% CI]", "ratio", "CER M", "CER T", "T/M")
	for _, s := range append(append([]string{}, Styles...), "all") {
		m := r.Muster[s]
		if m == nil {
			continue
		}
		tr, tc, rr, cr := "—", "—", "—", "—"
		if t := r.Tess[s]; r.HaveTesseract && t != nil {
			tr = r.TessWR[s].String()
			tc = fmt.Sprintf("%6.3f", t.CER())
			if t.Recall() > 0 {
				rr = fmt.Sprintf("%6.2f×", m.Recall()/t.Recall())
			}
			if m.CER() > 0 {
				cr = fmt.Sprintf("%6.2f×", t.CER()/m.CER())
			}
		}
		fmt.Fprintf(bw, "%-14s %4d | %-34s %-34s %7s | %7.3f %7s %7s\n", s, m.Designs, r.MusterWR[s].String(), tr, rr, m.CER(), tc, cr)
	}
	fmt.Fprintf(bw, "\n%-14s | %-30s %-30s | %-30s %-30s | %-28s %-28s\n", "style", "word marks found Muster", "Tesseract", "slogans/codes as law requires M", "Tesseract", "ordinary flagged Muster", "Tesseract")
	for _, s := range append(append([]string{}, Styles...), "all") {
		if r.Muster[s] == nil {
			continue
		}
		c := func(m map[string]*Count) string {
			if m[s] == nil {
				return "—"
			}
			return m[s].String()
		}
		fmt.Fprintf(bw, "%-14s | %-30s %-30s | %-30s %-30s | %-28s %-28s\n", s, c(r.MarkM), c(r.MarkT), c(r.SloganM), c(r.SloganT), c(r.FlagM), c(r.FlagT))
	}
	fmt.Fprintf(bw, "(slogans/codes: one count per design and market, DE, AT, US; flagged: review or block in any market)\n")
	for _, k := range []string{"design", "print_file"} {
		if len(r.MusterTimes[k]) == 0 {
			continue
		}
		fmt.Fprintf(bw, "time per %-10s Muster p50 %v p90 %v", k, pct(r.MusterTimes[k], 0.5), pct(r.MusterTimes[k], 0.9))
		if len(r.TessTimes[k]) > 0 {
			fmt.Fprintf(bw, "   Tesseract p50 %v (Tesseract/Muster %.2f×)", pct(r.TessTimes[k], 0.5), float64(pct(r.TessTimes[k], 0.5))/float64(pct(r.MusterTimes[k], 0.5)))
		}
		fmt.Fprintln(bw)
	}
	if r.TessCached > 0 {
		fmt.Fprintf(bw, "(%d of %d Tesseract readings from the cache, var/cache/eval-text-tesseract; left out of the times)\n", r.TessCached, len(r.MusterTotal))
	}
	var inf, tot time.Duration
	for i := range r.MusterInfer {
		inf += r.MusterInfer[i]
		tot += r.MusterTotal[i]
	}
	if inf > 0 {
		fmt.Fprintf(bw, "Muster time outside ONNX Runtime (decode excluded): %.1f%% over raw inference\n", 100*(float64(tot)/float64(inf)-1))
	}
}

func pct(ds []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	i := min(len(s)-1, int(q*float64(len(s))))
	return s[i].Round(time.Millisecond)
}
