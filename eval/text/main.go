// Command text is `make eval-text` and `make bench-text`: Muster's OCR on
// generated text designs against Tesseract 5 (accuracy) and
// @gutenye/ocr-node (speed), in the same run on the same images. See
// docs/ocr.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/eval/text/evaltext"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/ocr"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eval-text:", err)
		os.Exit(1)
	}
}

func seeds(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func run() error {
	n := flag.Int("n", 120, "designs per seed")
	dev := flag.String("dev-seeds", "1", "development seeds (comma-separated)")
	test := flag.String("test-seeds", "9001", "frozen test seeds (comma-separated; held-out fonts and slogans)")
	val := flag.String("val-seeds", "", "validation seeds (comma-separated): fonts in neither the development nor the test set, the development brands and slogans")
	noTess := flag.Bool("no-tesseract", false, "skip Tesseract")
	psm := flag.Int("psm", 11, "Tesseract page segmentation mode (11: sparse text)")
	bench := flag.Bool("bench", false, "speed against @gutenye/ocr-node instead of the accuracy evaluation")
	rounds := flag.Int("rounds", 3, "benchmark rounds")
	benchSeq := flag.Bool("bench-sequential", false, "bench: also time an engine with Config.Parallel 1 on the same files (the parallel Go work's gain under the same load)")
	parallel := flag.Int("parallel", 0, "goroutines for Read's Go work (ocr.Config.Parallel; default GOMAXPROCS)")
	benchPrints := flag.Int("bench-prints", 10, "print files the benchmark times (the -n designs' own and more of the same seed)")
	detSide := flag.Int("det-side", 0, "detection long side (default: the engine's)")
	out := flag.String("out", "", "write the generated designs and a truth file here")
	verbose := flag.Bool("v", false, "print every miss")
	genOnly := flag.Bool("gen-only", false, "only generate the designs into -out")
	noGenCache := flag.Bool("no-gen-cache", false, "render the designs again (default: cached by set, seed, size, generator version and fonts)")
	styles := flag.String("styles", "", "only these styles (comma-separated; default all)")
	noTessCache := flag.Bool("no-tess-cache", false, "read every design with Tesseract again (default: cached readings by image hash)")
	retry := flag.String("retry", "", "second-reading filters (comma-separated: invert, close, close5, blur, median; default the engine's)")
	retryMean := flag.Bool("retry-mean", false, "average the recogniser's probabilities over a low-confidence line's filtered copies")
	retryScore := flag.Float64("retry-score", 0, "second readings below this confidence (default the engine's)")
	binThresh := flag.Float64("bin-thresh", 0, "DB binarisation threshold (default the engine's)")
	boxThresh := flag.Float64("box-thresh", 0, "DB box score threshold (default the engine's)")
	unclip := flag.Float64("unclip", 0, "DB unclip ratio (default the engine's)")
	limit := flag.Int("limit", 0, "evaluate only the first designs of each seed's set (the same designs as in the full set; 0: all)")
	ordText := flag.String("ordinary-text", "", "screen the ordinary slogans of this file (and the set's own) as text, as written and stacked one word a line, instead of the evaluation")
	lexMargin := flag.Float64("lexicon-margin", 0, "lexicon correction margin in nats (default the engine's; negative: no lexicon)")
	lexMarks := flag.Bool("lexicon-marks", false, "add the default bank's word marks to the lexicon (ablation; the analyzer leaves them out)")
	noLexPhrases := flag.Bool("no-lexicon-phrases", false, "leave the phrase bank's phrases out of the lexicon (ablation: no correction of a line as a whole phrase)")
	retryPrefer := flag.Float64("retry-prefer", 0, "confidence a second reading gives up per word the lexicon does not list (Config.RetryPrefer)")
	phraseMargin := flag.Float64("phrase-margin", 0, "phrase correction margin in nats (Config.PhraseMargin; default the engine's)")
	darkInk := flag.Bool("dark-ink", false, "read light-on-dark lines from their negative first (Config.DarkInk)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (pprof) here")
	noSpin := flag.Bool("ort-no-spin", false, "ONNX Runtime's intra-op threads do not spin while they wait for work (models.PoolConfig.NoSpinning)")
	readings := flag.String("readings", "", "write every Muster reading here (design ID, tab, quoted text): compare two versions with diff")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg := ocr.Config{DetMaxSide: *detSide, RetryMean: *retryMean, RetryScore: *retryScore, BinThresh: *binThresh, BoxThresh: *boxThresh, UnclipRatio: *unclip, LexiconMargin: *lexMargin, Parallel: *parallel, DarkInk: *darkInk, RetryPrefer: *retryPrefer, PhraseMargin: *phraseMargin,
		Pool: models.PoolConfig{NoSpinning: *noSpin}}
	if *retry != "" {
		cfg.Retry = strings.Split(*retry, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env, err := evaltext.OpenWith(ctx, cfg, evaltext.Options{LexiconMarks: *lexMarks, NoLexiconPhrases: *noLexPhrases})
	if err != nil {
		return err
	}
	defer env.Close()
	designCache := filepath.Join(env.Root, "var", "cache", "eval-text-designs")
	if *noGenCache {
		designCache = ""
	}
	if *noTessCache {
		env.TessCache = ""
	}
	if *ordText != "" {
		slogans, err := evaltext.LoadSlogans(*ordText)
		if err != nil {
			return err
		}
		slogans = append(append(slogans, evaltext.Ordinary("dev")...), evaltext.Ordinary("test")...)
		a, st, err := env.OrdinaryText(ctx, slogans, os.Stdout)
		if err != nil {
			return err
		}
		fmt.Printf("ordinary slogans flagged (review or block in DE or US), text only: as written %s; stacked one word a line %s\n", a, st)
		return nil
	}
	if *bench {
		designs, err := evaltext.GenerateCached(filepath.Join(env.Root, "var", "cache", "eval-text-designs"), "dev", 77, *n, env.Content["dev"], nil)
		if err != nil {
			return err
		}
		if *benchPrints > 0 {
			// One design in eight is a print file: p90 over the -n designs'
			// three says little. The same seed's first benchPrints print
			// files replace them (the first three are the same files).
			per := len(evaltext.Styles)
			prints, err := evaltext.GenerateCached(filepath.Join(env.Root, "var", "cache", "eval-text-designs"), "dev", 77, per**benchPrints, env.Content["dev"], []string{"print_file"})
			if err != nil {
				return err
			}
			designs = slices.DeleteFunc(designs, func(d evaltext.Design) bool { return d.Style == "print_file" })
			designs = append(designs, prints...)
		}
		env.BenchSequential = *benchSeq
		fmt.Printf("load average at the start: %s (2 cores)\n", loadavg())
		if err := env.Bench(ctx, designs, *rounds, os.Stdout); err != nil {
			return err
		}
		fmt.Printf("load average at the end: %s (2 cores; figures above shrink on an idle machine)\n", loadavg())
		return nil
	}
	devSeeds, err := seeds(*dev)
	if err != nil {
		return err
	}
	testSeeds, err := seeds(*test)
	if err != nil {
		return err
	}
	valSeeds, err := seeds(*val)
	if err != nil {
		return err
	}
	fmt.Printf("eval-text: %d designs per seed; dev seeds %v, val seeds %v, test seeds %v; %d dev / %d test brands; Tesseract psm %d\n",
		*n, devSeeds, valSeeds, testSeeds, len(env.Content["dev"].Brands), len(env.Content["test"].Brands), *psm)
	for _, set := range []struct {
		name  string
		seeds []uint64
	}{{"dev", devSeeds}, {"val", valSeeds}, {"test", testSeeds}} {
		var all []evaltext.Design
		for _, s := range set.seeds {
			var only []string
			if *styles != "" {
				only = strings.Split(*styles, ",")
			}
			ds, err := evaltext.GenerateCached(designCache, set.name, s, *n, env.Content[set.name], only)
			if err != nil {
				return err
			}
			if *limit > 0 && len(ds) > *limit {
				ds = ds[:*limit]
			}
			for _, d := range ds {
				if *styles == "" || slices.Contains(strings.Split(*styles, ","), d.Style) {
					all = append(all, d)
				}
			}
		}
		if len(all) == 0 {
			continue
		}
		if *out != "" {
			if err := save(*out, all); err != nil {
				return err
			}
		}
		if *genOnly {
			continue
		}
		if *readings != "" {
			f, err := os.OpenFile(*readings, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			defer f.Close()
			env.ReadingsOut = f
		}
		start := time.Now()
		var vw *os.File
		if *verbose {
			vw = os.Stdout
		}
		rep, err := env.Evaluate(ctx, set.name, all, !*noTess, *psm, vw)
		if err != nil {
			return err
		}
		rep.Print(os.Stdout)
		fmt.Printf("(%s set took %v; load average %s)\n", set.name, time.Since(start).Round(time.Second), loadavg())
	}
	return nil
}

func save(dir string, ds []evaltext.Design) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "truth.tsv"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, d := range ds {
		if err := os.WriteFile(filepath.Join(dir, d.ID+"."+d.Format), d.Data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(f, "%s\t%s\t%s\t%s\t%q\t%s\n", d.ID, d.Style, d.Kind, d.Entry, d.Text(), strings.Join(d.Fonts, ","))
	}
	return nil
}

// loadavg is the machine's 1/5/15-minute load average, printed with the
// timings: the machine is shared.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
