// Command benchpipeline pushes N realistic designs through a running
// pipeline (real PostgreSQL, embedded NATS JetStream, the HTTP API, workers)
// and prints designs/second, upload-to-verdict latency percentiles and the
// share of time per stage. make bench-pipeline runs it under pgtmp.
//
//	go run ./internal/pgtest/pgtmp -- go run ./eval/benchpipeline -n 200
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
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
	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/natsembed"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/migrations"
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
	analyzers, closeAnalyzers, err := app.Analyzers(ctx, cfg, pool, nc, nil)
	if err != nil {
		return err
	}
	defer closeAnalyzers()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p, err := app.New(ctx, pool, nc, app.Options{Config: cfg, Analyzers: analyzers, Serve: true, Work: true, Listener: ln})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	ten, _, err := p.Store.CreateTenant(ctx, "bench", "")
	if err != nil {
		return err
	}
	// The bench measures the pipeline, not the free tier's request rate.
	if err := p.Store.SetTenantTier(ctx, ten.ID, store.TierPaid); err != nil {
		return err
	}
	key, _, err := p.Store.CreateKey(ctx, ten.ID, store.RoleMerchant, "bench")
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "generating %d designs (%.0f%% 4500×5400 print files, the rest 1200×1200 PNG/JPEG)…\n", *n, *bigShare*100)
	designs := generate(*n, *bigShare)
	var totalBytes int
	for _, d := range designs {
		totalBytes += len(d.data)
	}
	url := "http://" + ln.Addr().String() + "/v1/designs?wait=30s"
	lat := make([]time.Duration, len(designs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	start := time.Now()
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t := time.Now()
				status, err := submit(ctx, url, key, designs[i])
				lat[i] = time.Since(t)
				if err != nil || status != store.StatusDecided {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("design %d: status %s: %v", i, status, err))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range designs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	fmt.Fprintf(stdout, "\nmachine: %d CPUs, GOMAXPROCS %d; analyzers: %v; clients: %d; concurrency per worker: %d\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), cfg.Analyzers, *clients, cfg.Concurrency)
	fmt.Fprintf(stdout, "designs: %d (%.1f MB uploaded), failures: %d\n", len(designs), float64(totalBytes)/1e6, len(failures))
	fmt.Fprintf(stdout, "throughput: %.1f designs/s (%.1fs wall)\n", float64(len(designs))/elapsed.Seconds(), elapsed.Seconds())
	fmt.Fprintf(stdout, "upload→verdict latency: p50 %s  p95 %s  p99 %s  max %s\n",
		pct(.50).Round(time.Millisecond), pct(.95).Round(time.Millisecond), pct(.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	printStages(stdout, p)
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

// printStages reports the time spent per stage from the pipeline's own metrics.
func printStages(w io.Writer, p *app.Pipeline) {
	mfs, err := p.Metrics.Registry.Gather()
	if err != nil {
		return
	}
	type stage struct {
		name  string
		sum   float64
		count uint64
	}
	var stages []stage
	var total float64
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
			stages = append(stages, stage{name, h.GetSampleSum(), h.GetSampleCount()})
			if mf.GetName() == "muster_stage_seconds" {
				total += h.GetSampleSum()
			}
		}
	}
	order := map[string]int{"queue": 0, "fetch": 1, "decode": 2, "analyze": 3, "policy": 5, "store": 6}
	sort.SliceStable(stages, func(i, j int) bool {
		oi, ok := order[stages[i].name]
		if !ok {
			oi = 4
		}
		oj, ok := order[stages[j].name]
		if !ok {
			oj = 4
		}
		return oi < oj
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
			r := rand.New(rand.NewPCG(uint64(i), 42))
			big := r.Float64() < bigShare
			w, h := 1200, 1200
			if big {
				w, h = 4500, 5400
			}
			img := image.NewNRGBA(image.Rect(0, 0, w, h))
			if !big && r.IntN(2) == 0 {
				c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
				draw.Draw(img, img.Rect, image.NewUniform(c), image.Point{}, draw.Src)
			}
			for k := 0; k < 6; k++ {
				cx, cy := r.IntN(w), r.IntN(h)
				rad := w/10 + r.IntN(w/5)
				c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
				for y := max(0, cy-rad); y < min(h, cy+rad); y++ {
					for x := max(0, cx-rad); x < min(w, cx+rad); x++ {
						if (x-cx)*(x-cx)+(y-cy)*(y-cy) < rad*rad {
							o := img.PixOffset(x, y)
							img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R+uint8(x%7), c.G+uint8(y%5), c.B, c.A
						}
					}
				}
			}
			var buf bytes.Buffer
			ct := "image/png"
			if !big && r.IntN(2) == 0 {
				ct = "image/jpeg"
				_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70 + r.IntN(26)})
			} else {
				enc := png.Encoder{CompressionLevel: png.BestSpeed}
				_ = enc.Encode(&buf, img)
			}
			out[i] = design{buf.Bytes(), ct}
		}()
	}
	wg.Wait()
	return out
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

var _ analyzers.Analyzer // the pipeline's analyzers implement it
