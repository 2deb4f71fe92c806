// Command benchpipeline pushes N realistic designs through a running
// pipeline (real PostgreSQL, embedded NATS JetStream, the HTTP API, workers)
// and prints designs/second, upload-to-verdict latency percentiles and the
// share of time per stage. make bench-pipeline runs it under pgtmp.
//
// With -nsfw-tiles both (the default) the same designs go through the
// pipeline twice, once with the NSFW analyzer's old tiles (every tile,
// nsfwjs's decimating resize, one model — nsfw.Config.OldTiles) and once
// with the current ones, and the NSFW analyzer's mean time per design is
// printed for both with their ratio, so the issue 15 target (at most half
// of the old time) is measured in one run on one machine, not remembered.
//
// With -nsfw-filing BIN (make bench-pipeline passes the build make
// nsfw-filing makes) a third variant runs the NSFW analyzer as it was when
// issue 15 was filed — that commit's code built into BIN (eval/nsfwserve),
// a process of its own fed the same design bytes — so the "today's"
// is measured in the same run too, and the new tiles' time is printed
// against both references.
//
//	go run ./internal/pgtest/pgtmp -- go run ./eval/benchpipeline -n 200
//	MUSTER_ANALYZERS=hash,nsfw go run ./internal/pgtest/pgtmp -- go run ./eval/benchpipeline -n 60 -clients 1
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/natsembed"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/internal/testimages"
	"github.com/muster-dev/muster/migrations"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchpipeline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchpipeline", flag.ContinueOnError)
	n := fs.Int("n", 200, "designs to submit")
	clients := fs.Int("clients", 8, "concurrent uploading clients")
	bigShare := fs.Float64("big", 0.1, "share of 4500×5400 print files")
	tiles := fs.String("nsfw-tiles", "both", "NSFW tiles: new (current), old (before issue 15: every tile, decimated, one model) or both (old then new on the same designs, ratio printed)")
	warmup := fs.Int("warmup", 3, "designs submitted before each timed pass and not counted (model sessions warm up)")
	filingBin := fs.String("nsfw-filing", "", "eval/nsfwserve built at the commit issue 15 was filed at (make nsfw-filing): time that analyzer on the same designs too")
	filingModels := fs.String("nsfw-filing-models", "", "models directory of the -nsfw-filing build (default: beside BIN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	admin := getenv(pgtest.EnvURL)
	if admin == "" {
		return errors.New("run under pgtmp (make bench-pipeline), which provides " + pgtest.EnvURL)
	}
	pool, err := freshDB(ctx, admin)
	if err != nil {
		return err
	}
	defer pool.Close()
	dir, err := os.MkdirTemp("", "benchpipeline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := natsembed.Start(natsembed.Config{StoreDir: filepath.Join(dir, "nats"), MaxPayload: 8 << 20})
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()

	cfg, _, err := config.Parse("bench", nil, getenv, io.Discard)
	if err != nil {
		return err
	}
	if slices.Contains(cfg.Analyzers, "bank") {
		fmt.Fprintln(stdout, "seeding the default banks (symbols, 3,743 simple-icons logos)…")
		if err := app.SeedBanks(ctx, cfg, pool, nc, nil); err != nil {
			return err
		}
	}
	var passes []string
	switch *tiles {
	case "both":
		passes = []string{"old", "new"}
	case "old", "new":
		passes = []string{*tiles}
	default:
		return fmt.Errorf("-nsfw-tiles %q: want new, old or both", *tiles)
	}
	if *filingBin != "" {
		passes = append([]string{"filing"}, passes...)
	}
	as, closeAnalyzers, err := app.Analyzers(ctx, cfg, pool, nc, nil)
	if err != nil {
		return err
	}
	defer closeAnalyzers()
	// The NSFW analyzer is wrapped: each tenant gets one tile variant, and
	// the wrapper times each variant's Analyze (the same span the
	// pipeline's muster_analyzer_seconds measures).
	var sw *swappable
	if slices.Contains(cfg.Analyzers, nsfw.AnalyzerName) {
		for i, a := range as {
			if a.Name() == nsfw.AnalyzerName {
				sw = &swappable{variants: map[string]analyzers.Analyzer{"new": a}, byTenant: map[string]string{}, stats: map[string]*stat{}}
				as[i] = sw
			}
		}
		if slices.Contains(passes, "old") {
			old, err := openOldNSFW(ctx, cfg)
			if err != nil {
				return err
			}
			defer old.Close()
			sw.variants["old"] = old
		}
		if *filingBin != "" {
			dir := *filingModels
			if dir == "" {
				dir = filepath.Join(filepath.Dir(*filingBin), "models")
			}
			fa, err := startFiling(ctx, *filingBin, dir, cfg)
			if err != nil {
				return fmt.Errorf("-nsfw-filing: %w", err)
			}
			defer fa.Close()
			sw.variants["filing"] = fa
			sw.filing = fa
			fmt.Fprintf(stdout, "filing-time NSFW analyzer: %s (%s)\n", *filingBin, fa.version)
		}
	} else if *tiles != "new" {
		return errors.New("-nsfw-tiles old/both needs the nsfw analyzer in MUSTER_ANALYZERS")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p, err := app.New(ctx, pool, nc, app.Options{Config: cfg, Analyzers: as, Serve: true, Work: true, Listener: ln})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	// A tenant per variant: the same bytes submitted again by the same
	// tenant would be answered from the earlier submission.
	keys := map[string]string{}
	for _, pass := range passes {
		key, tenantID, err := benchTenant(ctx, p, "bench-"+pass)
		if err != nil {
			return err
		}
		keys[pass] = key
		if sw != nil {
			sw.byTenant[tenantID] = pass
		}
	}

	fmt.Fprintf(stdout, "generating %d designs (%.0f%% 4500×5400 print files, the rest 1200×1200 PNG/JPEG)…\n", *n, *bigShare*100)
	designs := generate(*n, *bigShare)
	var totalBytes int
	for _, d := range designs {
		totalBytes += len(d.data)
		if sw != nil && sw.filing != nil {
			sw.filing.add(d)
		}
	}
	url := "http://" + ln.Addr().String() + "/v1/designs?wait=30s"
	for i := 0; i < *warmup; i++ {
		// Warm-up designs are generated apart so the timed designs are
		// not de-duplicated against them.
		w := generateOne(uint64(1_000_000+i), *bigShare)
		if sw != nil && sw.filing != nil {
			sw.filing.add(w)
		}
		for _, pass := range passes {
			if _, err := submit(ctx, url, keys[pass], w); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	if sw != nil {
		sw.reset()
	}
	before := snapshot(p)
	// Every design goes through each variant in turn (old, new, old, new,
	// …), so a change of load on a shared machine hits both alike.
	lat, failures, elapsed := load(ctx, url, keys, passes, designs, *clients)
	after := snapshot(p)
	if sw != nil && sw.filing != nil {
		if err := sw.filing.failed(); err != nil {
			return fmt.Errorf("filing-time analyzer: %w", err)
		}
	}
	fmt.Fprintf(stdout, "\nmachine: %d CPUs, GOMAXPROCS %d; analyzers: %v; clients: %d; concurrency per worker: %d; NSFW tiles: %v\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), cfg.Analyzers, *clients, cfg.Concurrency, passes)
	fmt.Fprintf(stdout, "designs: %d × %d variants (%.1f MB uploaded each), failures: %d\n", len(designs), len(passes), float64(totalBytes)/1e6, len(failures))
	fmt.Fprintf(stdout, "throughput: %.1f designs/s (%.1fs wall, all variants)\n", float64(len(designs)*len(passes))/elapsed.Seconds(), elapsed.Seconds())
	for _, pass := range passes {
		l := lat[pass]
		slices.Sort(l)
		pct := func(q float64) time.Duration { return l[min(len(l)-1, int(q*float64(len(l))))] }
		fmt.Fprintf(stdout, "upload→verdict latency, %s tiles: p50 %s  p95 %s  p99 %s  max %s\n", pass,
			pct(.50).Round(time.Millisecond), pct(.95).Round(time.Millisecond), pct(.99).Round(time.Millisecond), l[len(l)-1].Round(time.Millisecond))
	}
	fmt.Fprintln(stdout, "stages (all variants together):")
	printStages(stdout, before, after)
	if sw != nil {
		mean := map[string]float64{}
		for _, pass := range passes {
			st := sw.stat(pass)
			mean[pass] = 1000 * st.sum / float64(max(1, st.count))
			fmt.Fprintf(stdout, "NSFW analyzer, %s tiles: mean %.1f ms per design (%d designs)\n", pass, mean[pass], st.count)
		}
		if o, ok := mean["old"]; ok && o > 0 {
			if m, ok := mean["new"]; ok {
				fmt.Fprintf(stdout, "NSFW ratio new/old tiles (today's code, old tile variant): %.2f (≤ 0.50: %s)\n", m/o, metStr(m/o <= 0.5))
			}
		}
		if f, ok := mean["filing"]; ok && f > 0 {
			if m, ok := mean["new"]; ok {
				fmt.Fprintf(stdout, "NSFW ratio new/filing-time analyzer (issue 15's \"today's\", built from %s): %.2f (issue 15 target ≤ 0.50: %s)\n", filepath.Base(filepath.Dir(*filingBin)), m/f, metStr(m/f <= 0.5))
			}
			if o, ok := mean["old"]; ok {
				fmt.Fprintf(stdout, "NSFW old tile variant / filing-time analyzer: %.2f\n", o/f)
			}
		}
	}
	for i, f := range failures {
		if i == 5 {
			break
		}
		fmt.Fprintln(stdout, "failure:", f)
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d designs did not reach a verdict", len(failures))
	}
	return nil
}

// stat is a histogram's sum (seconds) and count.
type stat struct {
	sum   float64
	count uint64
}

func (a stat) minus(b stat) stat { return stat{a.sum - b.sum, a.count - b.count} }

// snapshot reads the pipeline's stage and analyzer histograms; analyzers
// are keyed "  analyzer NAME".
func snapshot(p *app.Pipeline) map[string]stat {
	out := map[string]stat{}
	mfs, err := p.Metrics.Registry.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != "muster_stage_seconds" && mf.GetName() != "muster_analyzer_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			name := m.GetLabel()[0].GetValue()
			if mf.GetName() == "muster_analyzer_seconds" {
				name = "  analyzer " + name
			}
			h := m.GetHistogram()
			out[name] = stat{h.GetSampleSum(), h.GetSampleCount()}
		}
	}
	return out
}

// printStages reports the time spent per stage between two snapshots.
func printStages(w io.Writer, before, after map[string]stat) {
	type stage struct {
		name string
		stat
	}
	var stages []stage
	var total float64
	for name, s := range after {
		d := s.minus(before[name])
		if d.count == 0 {
			continue
		}
		stages = append(stages, stage{name, d})
		if name[0] != ' ' {
			total += d.sum
		}
	}
	order := map[string]int{"queue": 0, "fetch": 1, "decode": 2, "analyze": 3, "policy": 5, "store": 6}
	rank := func(s stage) int {
		if s.name[0] == ' ' {
			return 4
		}
		if o, ok := order[s.name]; ok {
			return o
		}
		return 7
	}
	sort.SliceStable(stages, func(i, j int) bool {
		if ri, rj := rank(stages[i]), rank(stages[j]); ri != rj {
			return ri < rj
		}
		return stages[i].name < stages[j].name
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tmean ms\tshare of worker time\t")
	for _, s := range stages {
		share := ""
		if s.name[0] != ' ' && total > 0 {
			share = fmt.Sprintf("%.1f%%", 100*s.sum/total)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t\n", s.name, 1000*s.sum/float64(max(s.count, 1)), share)
	}
	tw.Flush()
}

func metStr(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// benchTenant creates a paid-tier tenant (the bench measures the pipeline,
// not the free tier's request rate) and a merchant key.
func benchTenant(ctx context.Context, p *app.Pipeline, name string) (key, tenantID string, err error) {
	ten, _, err := p.Store.CreateTenant(ctx, name, "")
	if err != nil {
		return "", "", err
	}
	if err := p.Store.SetTenantTier(ctx, ten.ID, store.TierPaid); err != nil {
		return "", "", err
	}
	key, _, err = p.Store.CreateKey(ctx, ten.ID, store.RoleMerchant, "bench")
	return key, ten.ID, err
}

// load submits every design to each variant's tenant in turn from clients
// concurrent clients and returns the latencies per variant, failures and
// the wall time.
func load(ctx context.Context, url string, keys map[string]string, passes []string, designs []design, clients int) (map[string][]time.Duration, []string, time.Duration) {
	type job struct {
		i    int
		pass string
	}
	lat := map[string][]time.Duration{}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				t := time.Now()
				status, err := submit(ctx, url, keys[j.pass], designs[j.i])
				d := time.Since(t)
				mu.Lock()
				lat[j.pass] = append(lat[j.pass], d)
				if err != nil || status != store.StatusDecided {
					failures = append(failures, fmt.Sprintf("design %d (%s tiles): status %s: %v", j.i, j.pass, status, err))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range designs {
		for _, pass := range passes {
			jobs <- job{i, pass}
		}
	}
	close(jobs)
	wg.Wait()
	return lat, failures, time.Since(start)
}

// swappable is the pipeline's NSFW analyzer with the tile variant chosen
// by tenant (one tenant per variant), timing each variant's Analyze.
type swappable struct {
	variants map[string]analyzers.Analyzer
	byTenant map[string]string // written before the pipeline sees a design
	filing   *filingAnalyzer   // the "filing" variant, nil without -nsfw-filing
	mu       sync.Mutex
	stats    map[string]*stat
}

func (s *swappable) variant(d *analyzers.Design) string {
	if v, ok := s.byTenant[d.TenantID]; ok {
		return v
	}
	return "new"
}

func (s *swappable) Name() string    { return s.variants["new"].Name() }
func (s *swappable) Version() string { return s.variants["new"].Version() }
func (s *swappable) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	v := s.variant(d)
	var (
		res analyzers.Result
		err error
		el  time.Duration
	)
	if st, ok := s.variants[v].(selfTimed); ok {
		res, el, err = st.analyzeTimed(ctx, d)
	} else {
		t := time.Now()
		res, err = s.variants[v].Analyze(ctx, d)
		el = time.Since(t)
	}
	s.mu.Lock()
	st := s.stats[v]
	if st == nil {
		st = &stat{}
		s.stats[v] = st
	}
	st.sum += el.Seconds()
	st.count++
	s.mu.Unlock()
	return res, err
}

func (s *swappable) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.stats)
}

func (s *swappable) stat(v string) stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stats[v]; st != nil {
		return *st
	}
	return stat{}
}

// openOldNSFW opens the NSFW analyzer with the old tiles, sized like the
// registry's (nsfw.Open).
func openOldNSFW(ctx context.Context, cfg config.Config) (*nsfw.Analyzer, error) {
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib})
	if err != nil {
		return nil, err
	}
	rt := models.NewRuntime()
	if err := rt.Init(inst.ORTLib); err != nil {
		return nil, err
	}
	return nsfw.New(rt, nsfw.Config{ModelsDir: inst.ModelsDir,
		Session: models.SessionConfig{Sessions: cfg.Concurrency, IntraOpThreads: cfg.OrtThreads}}.OldTiles())
}

type design struct {
	data []byte
	ct   string
}

// generate makes merchant-like designs: art on a transparent or plain canvas,
// shapes, gradients, noise; 1200×1200 PNG/JPEG and 4500×5400 PNG print files.
func generate(n int, bigShare float64) []design {
	out := make([]design, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i := range out {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = generateOne(uint64(i), bigShare)
		}()
	}
	wg.Wait()
	return out
}

// generateOne makes design i (same i, same bytes; the NSFW analyzer's
// benchmark times the same designs).
func generateOne(i uint64, bigShare float64) design {
	c := testimages.PipelineDesign(i, bigShare)
	return design{c.Data, c.MediaType}
}

func submit(ctx context.Context, url, key string, d design) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := map[string][]string{"Content-Disposition": {`form-data; name="design"; filename="d"`}, "Content-Type": {d.ct}}
	part, _ := mw.CreatePart(h)
	part.Write(d.data)
	mw.WriteField("markets", "DE,US,FR,GB,IN,BR")
	mw.WriteField("product", "tshirt")
	mw.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, &body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v api.DesignView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", err
	}
	return v.Status, nil
}

func freshDB(ctx context.Context, adminURL string) (*pgxpool.Pool, error) {
	admin, err := pgxpool.New(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	name := fmt.Sprintf("bench_%d", time.Now().UnixNano())
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

var _ analyzers.Analyzer = (*swappable)(nil)
