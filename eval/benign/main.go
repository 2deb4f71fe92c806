// Command eval-benign generates harmless print-on-demand designs
// (eval/benign/benigngen) and runs them through Muster's whole scan path —
// every configured analyzer, then the live default policy, as `muster scan`
// does — and reports the share NOT allowed per market and per cause
// (analyzer, rule, image or tile), development seeds apart from frozen test
// seeds, with Wilson 95 % intervals. make eval-benign runs it under pgtmp.
//
//	go run ./internal/pgtest/pgtmp -- go run ./eval/benign -n 200
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	xdraw "golang.org/x/image/draw"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/eval/benign/benigngen"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/migrations"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "eval-benign:", err)
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
			return nil, fmt.Errorf("seed %q: %w", f, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval-benign", flag.ContinueOnError)
	n := fs.Int("n", 200, "designs per seed")
	devSeeds := fs.String("dev-seeds", "1", "development seeds (tune on these only), comma-separated")
	testSeeds := fs.String("test-seeds", "1001", "frozen test seeds (report only; never tune on them), comma-separated")
	marketsFlag := fs.String("markets", strings.Join(benigngen.DefaultMarkets, ","), "markets to decide for")
	product := fs.String("product", "tshirt", "product type")
	jobs := fs.Int("jobs", 2, "designs analysed at once")
	verbose := fs.Bool("v", false, "list every held design with its causes")
	jsonOut := fs.String("json", "", "write every result as JSON lines to this file")
	dump := fs.String("dump", "", "write the held designs' files to this folder")
	noSystemFonts := fs.Bool("no-system-fonts", false, "only the Go fonts (the frozen CI set's choice)")
	preview := fs.String("preview", "", "only write the first development seed's n designs to this folder (no scan)")
	reportFrom := fs.String("report", "", "only print the report of the JSON lines files written by -json (comma-separated)")
	compare := fs.Bool("compare-legacy", false, "also run every design with the NSFW analyzer's old tiles (decimated, every tile, no second model, no floors) and report both")
	bankSample := fs.Int("bank-sample", 1, "seed the trademark bank with every k-th simple-icons logo (1: all; larger is faster, for quick runs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dev, err := seeds(*devSeeds)
	if err != nil {
		return err
	}
	test, err := seeds(*testSeeds)
	if err != nil {
		return err
	}
	for _, s := range dev {
		if slices.Contains(test, s) {
			return fmt.Errorf("seed %d is both a development and a test seed", s)
		}
	}
	if *reportFrom != "" {
		return report(*reportFrom, strings.Split(*marketsFlag, ","), *verbose, stdout)
	}
	if *preview != "" {
		return writePreview(ctx, *preview, dev[0], *n, !*noSystemFonts, getenv, stdout)
	}
	admin := getenv(pgtest.EnvURL)
	if admin == "" {
		return errors.New("run under pgtmp (make eval-benign), which provides " + pgtest.EnvURL)
	}
	pool, err := freshDB(ctx, admin)
	if err != nil {
		return err
	}
	defer pool.Close()
	cfg, _, err := config.Parse("eval-benign", nil, getenv, io.Discard)
	if err != nil {
		return err
	}
	markets := strings.Split(*marketsFlag, ",")
	src, err := benigngen.LoadSources(ctx, cfg.CacheDir, benigngen.SourceOptions{SystemFonts: !*noSystemFonts})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sources: %d fonts;", len(src.Fonts))
	for _, s := range src.Sets {
		fmt.Fprintf(stdout, " %s %d icons;", s.Prefix, len(s.Icons))
	}
	fmt.Fprintf(stdout, " analyzers %v; markets %v\n", cfg.Analyzers, markets)
	if slices.Contains(cfg.Analyzers, "bank") || slices.Contains(cfg.Analyzers, "listing") {
		t := time.Now()
		if *bankSample > 1 {
			// Import the sampled trademark bank first; SeedBanks then only
			// adds what is missing (symbols, word marks).
			i := 0
			if _, err := bank.ImportSimpleIcons(ctx, bank.NewStore(pool, nil), bank.ImportOptions{CacheDir: cfg.CacheDir, Actor: "eval",
				Keep: func(string) bool { i++; return i%*bankSample == 0 }}, nil); err != nil {
				return err
			}
		}
		if err := app.SeedBanks(ctx, cfg, pool, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "default banks seeded in %s\n", time.Since(t).Round(time.Second))
	}
	as, closeAnalyzers, err := app.Analyzers(ctx, cfg, pool, nil, nil)
	if err != nil {
		return err
	}
	defer closeAnalyzers()
	// A partial MUSTER_ANALYZERS (e.g. hash,nsfw to measure the NSFW
	// analyzer alone) makes the pipeline hold every design for the
	// analyzers left out (fail closed); this evaluation measures the
	// analyzers it runs, so that analysis is left out here, and said so.
	as = slices.DeleteFunc(as, func(a analyzers.Analyzer) bool {
		if a.Name() == app.OmittedAnalyzer {
			fmt.Fprintf(stdout, "MUSTER_ANALYZERS=%s: only these analyzers are measured (the pipeline would hold every design for the others)\n", strings.Join(cfg.Analyzers, ","))
			return true
		}
		return false
	})
	decider, err := policy.NewDecider(ctx, policy.NewStore(pool, store.New(pool), policy.Config{}), policy.DeciderConfig{})
	if err != nil {
		return err
	}
	sc := benigngen.Scanner{Analyzers: as, Decider: decider, Markets: markets, Product: *product, Limits: cfg.Limits()}
	var legacy *benigngen.Scanner
	if *compare {
		inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib})
		if err != nil {
			return err
		}
		rt := models.NewRuntime()
		if err := rt.Init(inst.ORTLib); err != nil {
			return err
		}
		old, err := nsfw.New(rt, nsfw.Config{ModelsDir: inst.ModelsDir}.OldTiles())
		if err != nil {
			return err
		}
		defer old.Close()
		l := sc
		l.Analyzers = slices.Clone(as)
		for i, a := range l.Analyzers {
			if a.Name() == nsfw.AnalyzerName {
				l.Analyzers[i] = old
			}
		}
		legacy = &l
	}

	var jw *json.Encoder
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		defer f.Close()
		jw = json.NewEncoder(f)
	}
	if *dump != "" {
		if err := os.MkdirAll(*dump, 0o755); err != nil {
			return err
		}
	}
	var all, legacyResults []benigngen.Result
	start := time.Now()
	for _, part := range []struct {
		split string
		seeds []uint64
	}{{"development", dev}, {"test", test}} {
		for _, seed := range part.seeds {
			g, err := benigngen.NewGenerator(benigngen.Config{Seed: seed}, src)
			if err != nil {
				return err
			}
			results := make([]benigngen.Result, *n)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var firstErr error
			next := make(chan int)
			for j := 0; j < max(1, *jobs); j++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						smp, err := g.Sample(i)
						if err != nil {
							mu.Lock()
							firstErr = errors.Join(firstErr, fmt.Errorf("sample %d: %w", i, err))
							mu.Unlock()
							continue
						}
						r := sc.Scan(ctx, smp, part.split)
						results[i] = r
						var lr benigngen.Result
						if legacy != nil {
							lr = legacy.Scan(ctx, smp, part.split+" (old NSFW tiles)")
						}
						mu.Lock()
						if legacy != nil {
							legacyResults = append(legacyResults, lr)
						}
						if jw != nil {
							// As each design finishes, so a long run can be
							// reported part-way (-report).
							_ = jw.Encode(r)
							if legacy != nil {
								_ = jw.Encode(lr)
							}
						}
						mu.Unlock()
						if *dump != "" && r.NotAllowed() {
							ext := ".png"
							if strings.HasPrefix(smp.Format, "jpeg") {
								ext = ".jpg"
							}
							_ = os.WriteFile(filepath.Join(*dump, smp.Name+ext), smp.Data, 0o644)
						}
					}
				}()
			}
			for i := 0; i < *n && ctx.Err() == nil; i++ {
				next <- i
				if (i+1)%10 == 0 {
					fmt.Fprintf(stderr, "seed %d: %d/%d designs (%s)\n", seed, i+1, *n, time.Since(start).Round(time.Second))
				}
			}
			close(next)
			wg.Wait()
			if firstErr != nil {
				return firstErr
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			all = append(all, results...)
		}
	}
	fmt.Fprintf(stdout, "%d designs in %s\n", len(all), time.Since(start).Round(time.Second))
	if legacy != nil {
		slices.SortFunc(legacyResults, func(a, b benigngen.Result) int { return strings.Compare(a.Split+a.Name, b.Split+b.Name) })
		benigngen.Report(stdout, legacyResults, markets)
	}
	benigngen.Report(stdout, all, markets)
	if *verbose {
		fmt.Fprintln(stdout, "\nheld designs:")
		benigngen.Flagged(stdout, all)
	}
	return nil
}

func freshDB(ctx context.Context, adminURL string) (*pgxpool.Pool, error) {
	admin, err := pgxpool.New(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	name := fmt.Sprintf("benign_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func writePreview(ctx context.Context, dir string, seed uint64, n int, systemFonts bool, getenv func(string) string, stdout io.Writer) error {
	cfg, _, err := config.Parse("eval-benign", nil, getenv, io.Discard)
	if err != nil {
		return err
	}
	src, err := benigngen.LoadSources(ctx, cfg.CacheDir, benigngen.SourceOptions{SystemFonts: systemFonts})
	if err != nil {
		return err
	}
	g, err := benigngen.NewGenerator(benigngen.Config{Seed: seed}, src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const thumb = 256
	cols := 6
	sheet := image.NewNRGBA(image.Rect(0, 0, cols*thumb, (n+cols-1)/cols*thumb))
	for i := range sheet.Pix {
		sheet.Pix[i] = 128
	}
	for i := 0; i < n; i++ {
		t := time.Now()
		smp, err := g.Sample(i)
		if err != nil {
			return err
		}
		if img, err := imaging.Decode(smp.Data, "", imaging.Limits{}); err == nil {
			r := image.Rect(0, 0, thumb, thumb*img.NRGBA.Rect.Dy()/img.NRGBA.Rect.Dx())
			if r.Dy() > thumb {
				r = image.Rect(0, 0, thumb*img.NRGBA.Rect.Dx()/img.NRGBA.Rect.Dy(), thumb)
			}
			xdraw.ApproxBiLinear.Scale(sheet, r.Add(image.Pt(i%cols*thumb, i/cols*thumb)), img.NRGBA, img.NRGBA.Rect, xdraw.Over, nil)
		}
		ext := ".png"
		if strings.HasPrefix(smp.Format, "jpeg") {
			ext = ".jpg"
		}
		if err := os.WriteFile(filepath.Join(dir, smp.Name+ext), smp.Data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %d KB  %s\n", smp.Describe(), len(smp.Data)/1024, time.Since(t).Round(time.Millisecond))
	}
	f, err := os.Create(filepath.Join(dir, "sheet.png"))
	if err != nil {
		return err
	}
	defer f.Close()
	return png.Encode(f, sheet)
}

func report(files string, markets []string, verbose bool, stdout io.Writer) error {
	var rs []benigngen.Result
	for _, f := range strings.Split(files, ",") {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		for dec.More() {
			var r benigngen.Result
			if err := dec.Decode(&r); err != nil {
				return err
			}
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b benigngen.Result) int { return strings.Compare(a.Split, b.Split) })
	benigngen.Report(stdout, rs, markets)
	if verbose {
		fmt.Fprintln(stdout, "\nheld designs:")
		benigngen.Flagged(stdout, rs)
	}
	return nil
}
