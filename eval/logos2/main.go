// Command eval-logos2 is the held-out logo evaluation of issue 14 (make
// eval-logos2): harder designs than eval-logos (see package logos2gen),
// development seeds that may be inspected while tuning, and frozen test
// seeds that are run once per matcher version (make eval-logos2-test), never
// listed design by design, their figures appended to eval/logos2/TESTRUNS.md.
//
// Bank: simple-icons without the tenth of entries held out as brand-like
// marks (logos2gen.HeldOutEntry), plus the drawn symbols, with the
// production negative bank (all of game-icons and tabler but brand icons).
package main

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
	"github.com/muster-dev/muster/eval/logos2/logos2gen"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/npmfetch"
)

// DevSeeds may be inspected while tuning; TestSeeds never are.
// NewTestSeeds are what -test runs without -seeds: 9001 and 9002 graded
// match-8 and match-9; from match-10 (whose designs add pattern grounds)
// each version is graded on seeds no earlier version saw: 9003 and 9004
// match-10, 9005 and 9006 match-11, 9007 and 9008 match-12, 9009 and
// 9010 match-14, 9011 and 9012 the next version (none was merged in
// session 10).
var (
	DevSeeds     = []uint64{101, 102, 103}
	TestSeeds    = []uint64{9001, 9002, 9003, 9004, 9005, 9006, 9007, 9008, 9009, 9010, 9011, 9012}
	NewTestSeeds = []uint64{9011, 9012}
)

// noNegRecorded notes a test run without the negative bank.
var (
	noNegRecorded     bool
	scaleRecorded     float64
	noPatternRecorded bool
)

// testRuns is where each test-seed run is recorded.
const testRuns = "eval/logos2/TESTRUNS.md"

func main() {
	if err := run(); err != nil {
		slog.Error("eval-logos2", "err", err)
		os.Exit(1)
	}
}

func run() error {
	seedsFlag := flag.String("seeds", "", "development seeds, comma-separated (default 101,102,103)")
	test := flag.Bool("test", false, "run the frozen test seeds once for this matcher version and record the figures in "+testRuns)
	again := flag.String("again", "", "with -test: run again although this version was run (the reason is recorded)")
	scale := flag.Float64("scale", 1, "designs per seed × this (200 own, 100 other, 150 free, 50 held-out brands at 1)")
	procs := flag.Int("procs", 1, "GOMAXPROCS (timing is per core at 1)")
	verbose := flag.Bool("v", false, "list misses and false flags (development seeds only)")
	explain := flag.Bool("explain", false, "with -v, explain each own-artwork miss")
	dump := flag.String("dump", "", "with -v, write missed and falsely flagged designs to this directory")
	jsonOut := flag.String("json", "", "also write the report as JSON here")
	only := flag.String("only", "", "only designs of this kind (own, other, free, heldout)")
	noAlt := flag.Bool("no-alternates", false, "without other artists' drawings as alternate references")
	noNeg := flag.Bool("no-negative", false, "without the negative bank (its first preparation takes long on a busy machine; recorded with the test figures)")
	preview := flag.String("preview", "", "write the first development seed's designs (every 10th) to this directory and stop")
	buildProcs := flag.Int("build-procs", 2, "GOMAXPROCS while the bank is prepared (first run, or a new encoding)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the matching (not the bank's preparation) to this file")
	noPattern := flag.Bool("no-pattern-grounds", false, "without the pattern grounds (checker, stripes, chevron, dots) added with match-10: match-9's designs")
	designs := flag.String("designs", "", "with one development seed in -seeds: match only these design indices (comma-separated, as -v lists them), print what was found and explain the logo's reference (its own or the other artist's); with -dump, write them there")
	parity := flag.Bool("outline-parity", false, "match.Config.OutlineParity: also fill proximity groups by parity (outline logos of several parts; off in production for its latency)")
	targetMS := flag.Float64("target-ms", 0, "print the 1200² CPU p50/p95 per design as a ratio to this target (make bench-logos: 600)")
	flag.Parse()
	runtime.GOMAXPROCS(*buildProcs)
	ctx := context.Background()
	if *test && (*verbose || *dump != "" || *only != "" || *designs != "") {
		return fmt.Errorf("test seeds are not inspected: -v, -dump and -only are for development seeds")
	}
	seeds := DevSeeds
	if *test {
		// -seeds may pick some of the test seeds (one process per seed on
		// a busy machine); each run records its own line, and no seed is
		// run twice for a matcher version.
		seeds = NewTestSeeds
		if *seedsFlag != "" {
			seeds = nil
			for _, f := range strings.Split(*seedsFlag, ",") {
				v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
				if err != nil {
					return err
				}
				if !slices.Contains(TestSeeds, v) {
					return fmt.Errorf("seed %d is not a frozen test seed", v)
				}
				seeds = append(seeds, v)
			}
		}
		prev, _ := os.ReadFile(testRuns)
		for _, line := range strings.Split(string(prev), "\n") {
			cols := strings.Split(line, "|")
			if len(cols) < 5 || strings.TrimSpace(cols[2]) != match.Version || *again != "" {
				continue
			}
			for _, sd := range seeds {
				if slices.Contains(strings.Fields(strings.Trim(strings.TrimSpace(cols[4]), "[]")), strconv.FormatUint(sd, 10)) {
					return fmt.Errorf("test seed %d was already run for %s (see %s); a new matcher version gets a new run", sd, match.Version, testRuns)
				}
			}
		}
	} else if *seedsFlag != "" {
		seeds = nil
		for _, f := range strings.Split(*seedsFlag, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				return err
			}
			for _, t := range TestSeeds {
				if v == t {
					return fmt.Errorf("seed %d is a frozen test seed: use -test", v)
				}
			}
			seeds = append(seeds, v)
		}
	}
	cache, err := filepath.Abs(npmfetch.DefaultCacheDir(os.Getenv))
	if err != nil {
		return err
	}
	src, err := logos2gen.Load(ctx, cache)
	if err != nil {
		return err
	}
	if *preview != "" {
		g, err := logos2gen.NewGenerator(logos2gen.Config{Seed: seeds[0], NoPatternGrounds: *noPattern}, src)
		if err != nil {
			return err
		}
		_ = os.MkdirAll(*preview, 0o755)
		for i := 0; i < g.Len(); i += 10 {
			s, err := g.Sample(i)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(*preview, fmt.Sprintf("%03d-%s-%s-%s.%s", i, s.Kind, s.Set, s.Slug, s.Format[6:])), s.Data, 0o644); err != nil {
				return err
			}
			fmt.Printf("%d %s %s/%s box=%v scale=%.2f angle=%.0f persp=%.2f %s distressed=%v %s occl=%s\n", i, s.Kind, s.Set, s.Icon, s.Box, s.Scale, s.Angle, s.Persp, s.Style, s.Distressed, s.Background, s.Occlusion)
		}
		return nil
	}
	m, err := buildMatcher(ctx, cache, src, *noAlt, *noNeg, *parity)
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(*procs) // designs are matched, and timed, on *procs cores
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	detect := func(ctx context.Context, img *imaging.Image) ([]logos2gen.Found, error) {
		ms, _, err := m.Find(ctx, img.NRGBA)
		if err != nil {
			return nil, err
		}
		out := make([]logos2gen.Found, 0, len(ms))
		for _, x := range ms {
			out = append(out, logos2gen.Found{Key: x.Key, Box: x.Box, Occluded: x.Occluded,
				Detail: fmt.Sprintf("edge %.3f iou %.2f d %d %s", x.EdgeF, x.IoU, x.Distance, x.Diagnostics())})
		}
		return out, nil
	}
	if *designs != "" {
		return probe(ctx, m, src, seeds, *scale, *noPattern, *designs, *dump)
	}
	rep := logos2gen.NewReport()
	perSeed := map[uint64]*logos2gen.Report{}
	for _, seed := range seeds {
		cfg := logos2gen.Config{Seed: seed, Test: *test, NoPatternGrounds: *noPattern}
		cfg = cfg.WithDefaults()
		cfg.Own, cfg.Other, cfg.Free, cfg.HeldOut = int(float64(cfg.Own)**scale), int(float64(cfg.Other)**scale), int(float64(cfg.Free)**scale), int(float64(cfg.HeldOut)**scale)
		g, err := logos2gen.NewGenerator(cfg, src)
		if err != nil {
			return err
		}
		sr := logos2gen.NewReport()
		if err := sr.Run(ctx, g, detect, *verbose && !*test, *only, os.Stderr); err != nil {
			return err
		}
		rep.Merge(sr)
		perSeed[seed] = sr
		fmt.Printf("== seed %d (%s): %d designs\n", seed, map[bool]string{true: "TEST", false: "development"}[*test], sr.Designs)
		sr.Print(os.Stdout)
		if *verbose && !*test {
			for _, s := range sr.Misses {
				fmt.Println("miss:", s)
				if *explain || *dump != "" {
					if err := inspect(ctx, m, g, s, *explain, *dump, seed); err != nil {
						return err
					}
				}
			}
			for _, s := range sr.Findings {
				fmt.Println("finding:", s)
			}
			for _, s := range sr.FalseFlags {
				fmt.Println("false flag:", s)
				if *dump != "" {
					if err := inspect(ctx, m, g, s, false, *dump, seed); err != nil {
						return err
					}
				}
			}
		}
	}
	fmt.Printf("== all seeds %v, matcher %s, bank %d references (%d hashes)\n", seeds, match.Version, m.Len(), m.Variants())
	rep.Print(os.Stdout)
	if *targetMS > 0 {
		t := rep.CPUMSPerDesign["1200x1200"]
		fmt.Printf("latency (detector CPU time on one core per 1200×1200 design, n=%d): p50 %.0f ms = %.2f×, p95 %.0f ms = %.2f× the %.0f ms target\n",
			t.N, t.P50, t.P50 / *targetMS, t.P95, t.P95 / *targetMS, *targetMS)
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(struct {
			Version string                       `json:"version"`
			Pooled  *logos2gen.Report            `json:"pooled"`
			Seeds   map[uint64]*logos2gen.Report `json:"seeds"`
		}{match.Version, rep, perSeed}, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if *test {
		noNegRecorded, scaleRecorded, noPatternRecorded = *noNeg, *scale, *noPattern
		return record(rep, seeds, *again)
	}
	return nil
}

// record appends the test-seed figures to testRuns.
func record(r *logos2gen.Report, seeds []uint64, again string) error {
	commit := "unknown"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	if dirty, err := exec.Command("git", "status", "--porcelain", "--", "bank", "eval/logos2").Output(); err == nil && len(bytes.TrimSpace(dirty)) > 0 {
		commit += "+changes"
	}
	get := func(m map[string]*logos2gen.Tally, k string) string {
		if t := m[k]; t != nil {
			return t.String()
		}
		return "—"
	}
	t := r.MSPerDesign["1200x1200"]
	tl := r.MSPerDesign["4500x5400"]
	tc := r.CPUMSPerDesign["1200x1200"]
	note := ""
	if again != "" {
		note = " (again: " + again + ")"
	}
	if noNegRecorded {
		note += " without the negative bank"
	}
	if noPatternRecorded {
		note += " without pattern grounds"
	}
	if scaleRecorded != 1 {
		note += fmt.Sprintf(" at scale %g", scaleRecorded)
	}
	load := "?"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	line := fmt.Sprintf("| %s | %s | %s | %v | %d | %s | %s | %s | %s | %s | %s | %s | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %s |%s\n",
		time.Now().UTC().Format("2006-01-02 15:04"), match.Version, commit, seeds, r.Designs,
		get(r.Recall, logos2gen.KindOwn), get(r.Recall, "other:dev sets"), get(r.Recall, "other:held-out sets"),
		r.Precision.String(), r.WrongExtra.String(), get(r.Flagged, logos2gen.KindFree), get(r.Flagged, logos2gen.KindHeldOut),
		t.P50, t.P95, tc.P50, tc.P95, tl.P50, tl.P95, load, note)
	_, statErr := os.Stat(testRuns)
	f, err := os.OpenFile(testRuns, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if os.IsNotExist(statErr) {
		fmt.Fprint(f, "# eval-logos2 frozen test seeds: one run per matcher version\n\n"+
			"Written by `make eval-logos2-test` (`go run ./eval/logos2 -test`), which refuses to run a version twice.\n"+
			"Test seeds are never listed design by design and never used for tuning.\n"+
			"Recall: right entry with its box overlapping the truth (IoU ≥ 0.3 or centre inside); 95 % Wilson intervals in brackets.\n\n"+
			"| when (UTC) | matcher | commit | seeds | designs | own-artwork recall | other artists, sets in tuning | other artists, held-out sets | precision (findings on logo designs) | logo designs with a wrong finding | brand-free flagged | held-out brands flagged | 1200² ms p50 / p95 (wall) | 1200² CPU ms p50 / p95 (one core) | 4500×5400 ms p50 / p95 (wall) | load average at the end |\n"+
			"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	}
	_, err = f.WriteString(line)
	fmt.Print("recorded in ", testRuns, ":\n", line)
	return err
}

// inspect explains a listed design (by its "#i" prefix) and dumps it.
func inspect(ctx context.Context, m *match.Matcher, g *logos2gen.Generator, line string, explain bool, dump string, seed uint64) error {
	var i int
	if _, err := fmt.Sscanf(line, "#%d", &i); err != nil {
		return nil
	}
	s, err := g.Sample(i)
	if err != nil {
		return err
	}
	if dump != "" {
		ext := ".png"
		if s.Format == "image/jpeg" {
			ext = ".jpg"
		}
		_ = os.MkdirAll(dump, 0o755)
		_ = os.WriteFile(filepath.Join(dump, fmt.Sprintf("s%d-%d-%s-%s%s", seed, i, s.Kind, s.Slug, ext)), s.Data, 0o644)
	}
	if explain && s.Positive() {
		img, err := imaging.Decode(s.Data, s.Format, imaging.Limits{})
		if err != nil {
			return err
		}
		e, err := m.Explain(ctx, img.NRGBA, s.Slug)
		if err != nil {
			return err
		}
		fmt.Println("   ", e)
	}
	return nil
}

// buildMatcher loads the evaluation bank: simple-icons less the held-out
// tenth, the symbols (protected, as bank.Set does), and the production
// negative bank.
func buildMatcher(ctx context.Context, cache string, src *logos2gen.Sources, noAlternates, noNegative, outlineParity bool) (*match.Matcher, error) {
	cfg := match.Config{Protected: func(k string) bool { return strings.HasPrefix(k, "symbol:") }, OutlineParity: outlineParity}
	m, err := match.New(cfg)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	cacheFile := filepath.Join(cache, "eval-simple-icons-"+match.EncodingVersion+".gob")
	cached := map[string][]byte{}
	if f, err := os.Open(cacheFile); err == nil {
		_ = gob.NewDecoder(f).Decode(&cached)
		f.Close()
	}
	dirty := false
	bar := &bank.Progress{W: os.Stderr, Label: "bank simple-icons", Total: len(src.Brands.Icons)}
	var jobs []bank.IconJob
	for _, ic := range src.Brands.Icons {
		var p match.Prepared
		if b, ok := cached[ic.Name]; ok && p.UnmarshalBinary(b) == nil {
			bar.Add(1)
			if !logos2gen.HeldOutEntry(ic.Name) {
				m.AddPrepared(&p)
			}
			continue
		}
		jobs = append(jobs, bank.IconJob{Key: ic.Name, Icon: ic})
	}
	prepared, err := bank.PrepareIcons(ctx, m, jobs, bar)
	if err != nil {
		return nil, err
	}
	for i, p := range prepared {
		if p == nil {
			return nil, fmt.Errorf("simple-icons %s: no shape", jobs[i].Key)
		}
		dirty = true
		cached[jobs[i].Key], _ = p.MarshalBinary()
		if !logos2gen.HeldOutEntry(jobs[i].Key) {
			m.AddPrepared(p)
		}
	}
	if dirty {
		if f, err := os.Create(cacheFile + ".tmp"); err == nil {
			err = gob.NewEncoder(f).Encode(cached)
			f.Close()
			if err == nil {
				_ = os.Rename(cacheFile+".tmp", cacheFile)
			}
		}
	}
	for _, s := range symbols.All() {
		if err := m.Add("symbol:"+s.ID, match.MaskFromAlpha(s.Draw(256)), 0); err != nil {
			return nil, err
		}
	}
	if !noAlternates {
		// Other artists' drawings of the bank's entries, as a worker loads
		// them (bank.AlternateSets: never the held-out artist sets).
		slugs := map[string]bool{}
		for _, ic := range src.Brands.Icons {
			if !logos2gen.HeldOutEntry(ic.Name) {
				slugs[ic.Name] = true
			}
		}
		alts, err := bank.LoadAlternates(ctx, bank.AlternateOptions{CacheDir: cache, Slugs: slugs, Match: cfg}, os.Stderr)
		if err != nil {
			return nil, err
		}
		for _, p := range alts {
			m.AddPrepared(p)
		}
	}
	negLen := 0
	if !noNegative {
		neg, err := bank.LoadNegative(ctx, bank.NegativeOptions{CacheDir: cache, Match: cfg}, os.Stderr)
		if err != nil {
			return nil, err
		}
		m.SetNegative(neg)
		negLen = neg.Len()
	}
	fmt.Fprintf(os.Stderr, "bank: %d references, %d hashes, negative bank %d shapes, ready in %s\n", m.Len(), m.Variants(), negLen, time.Since(t0).Round(time.Millisecond))
	return m, nil
}

// probe matches the listed designs of one development seed and explains,
// for each logo design, its reference (the bank's own artwork, or the
// other artist's drawing as an alternate): the quick loop for looking at
// misses without running a whole seed.
func probe(ctx context.Context, m *match.Matcher, src *logos2gen.Sources, seeds []uint64, scale float64, noPattern bool, list, dump string) error {
	if len(seeds) != 1 {
		return fmt.Errorf("-designs needs exactly one development seed in -seeds")
	}
	cfg := logos2gen.Config{Seed: seeds[0], NoPatternGrounds: noPattern}.WithDefaults()
	cfg.Own, cfg.Other, cfg.Free, cfg.HeldOut = int(float64(cfg.Own)*scale), int(float64(cfg.Other)*scale), int(float64(cfg.Free)*scale), int(float64(cfg.HeldOut)*scale)
	g, err := logos2gen.NewGenerator(cfg, src)
	if err != nil {
		return err
	}
	for _, f := range strings.Split(list, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(f, "#")))
		if err != nil || i < 0 || i >= g.Len() {
			return fmt.Errorf("-designs: %q is not a design of this seed (0..%d)", f, g.Len()-1)
		}
		s, err := g.Sample(i)
		if err != nil {
			return err
		}
		img, err := imaging.Decode(s.Data, s.Format, imaging.Limits{})
		if err != nil {
			return err
		}
		t0 := time.Now()
		found, st, err := m.Find(ctx, img.NRGBA)
		if err != nil {
			return err
		}
		fmt.Printf("#%d %s %s/%s (%s) box=%v scale=%.2f angle=%.1f persp=%.2f style=%s distressed=%v bg=%s occl=%s %s %dx%d: %.0f ms, %d candidates\n",
			i, s.Kind, s.Set, s.Icon, s.Slug, s.Box, s.Scale, s.Angle, s.Persp, s.Style, s.Distressed, s.Background, s.Occlusion, s.Format, s.Width, s.Height,
			float64(time.Since(t0).Microseconds())/1000, st.Candidates)
		for _, x := range found {
			ok := x.Key == s.Slug && logos2gen.BoxOK(x.Box, s.Box)
			fmt.Printf("    found %s %v edge %.3f iou %.2f d %d occluded %v right %v %s\n", x.Key, x.Box, x.EdgeF, x.IoU, x.Distance, x.Occluded, ok, x.Diagnostics())
		}
		if s.Positive() {
			key := s.Slug
			if s.Kind == logos2gen.KindOther {
				key = match.AlternateKey(s.Slug, s.Set+":"+s.Icon)
			}
			e, err := m.Explain(ctx, img.NRGBA, key)
			if err != nil {
				return err
			}
			fmt.Println("   ", e)
		}
		if dump != "" {
			ext := ".png"
			if s.Format == "image/jpeg" {
				ext = ".jpg"
			}
			_ = os.MkdirAll(dump, 0o755)
			if err := os.WriteFile(filepath.Join(dump, fmt.Sprintf("s%d-%d-%s-%s%s", seeds[0], i, s.Kind, s.Slug, ext)), s.Data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
