// Command benchreview measures the review workflow through the HTTP API
// against a real PostgreSQL: it seeds N pending review items (designs whose
// verdict put a market in review, recorded through the store so the review
// hook opens their items), then R concurrent reviewers, each with its own
// API key, claim and decide until D decisions are made. It prints claims/s,
// claim and decision latency percentiles, checks that no item was handed
// out twice and that the audit chain verifies, and compares claim p99 with
// the target of issue 10 (50 ms with 10,000 pending). make bench-review
// runs it under pgtmp.
//
//	go run ./internal/pgtest/pgtmp -- go run ./eval/benchreview -items 10000 -reviewers 50
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/natsembed"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/migrations"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/review"
	"github.com/muster-dev/muster/store"
)

// claimTargetP99 is issue 10's target: claim p99 under 50 ms with 10,000
// pending items on this machine.
const claimTargetP99 = 50 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreview:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchreview", flag.ContinueOnError)
	items := fs.Int("items", 10000, "pending review items to seed")
	reviewers := fs.Int("reviewers", 50, "concurrent reviewers (one API key each)")
	decisions := fs.Int("decisions", 5000, "decisions to make before stopping (0: until the queue is empty)")
	seeders := fs.Int("seeders", 8, "concurrent seeding connections")
	statements := fs.Bool("statements", false, "print the statements that took most PostgreSQL time during the measured phase (needs pg_stat_statements in shared_preload_libraries)")
	thinkList := fs.String("think", "0", "comma-separated phases, one per mean time a reviewer looks at an item before deciding (0: none, the saturation test), e.g. 0,3s")
	conns := fs.Int("conns", 24, "PostgreSQL connections of the server's pool (MUSTER_DATABASE_MAX_CONNS's default)")
	explain := fs.Bool("explain", false, "print the claim statement's plan (EXPLAIN ANALYZE, rolled back) before the first phase and after the last")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of this process (server and clients) during the measured phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var thinks []time.Duration
	for _, f := range strings.Split(*thinkList, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if f == "0" {
			d, err = 0, nil
		}
		if err != nil || d < 0 {
			return fmt.Errorf("-think: %q is not a duration", f)
		}
		thinks = append(thinks, d)
	}
	admin := getenv(pgtest.EnvURL)
	if admin == "" {
		return errors.New("run under pgtmp (make bench-review), which provides " + pgtest.EnvURL)
	}
	pool, err := freshDB(ctx, admin, *conns)
	if err != nil {
		return err
	}
	defer pool.Close()
	dir, err := os.MkdirTemp("", "benchreview-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := natsembed.Start(natsembed.Config{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()

	cfg := config.Config{HTTPAddr: "127.0.0.1:0", Concurrency: 1, Analyzers: []string{"hash"}, MaxBytes: 1 << 20, MaxPixels: 1 << 20,
		AckWait: 30 * time.Second, MaxDeliver: 3, NATSReplicas: 1, ShutdownGrace: 5 * time.Second}
	st := app.NewStore(pool, cfg, nil)
	plat, _, err := st.CreatePlatformTenant(ctx, "platform", "")
	if err != nil {
		return err
	}
	merchant, _, err := st.CreateTenant(ctx, "merchant", "")
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := seed(ctx, st, merchant.ID, *items, *seeders); err != nil {
		return err
	}
	seedDur := time.Since(t0)
	fmt.Fprintf(stdout, "seeded %d pending items in %s (%.0f verdicts+items/s through the store)\n", *items, seedDur.Round(time.Millisecond), float64(*items)/seedDur.Seconds())
	// Seeding left one event chain and one audit chain backlog per item
	// (submitted, verdict, review.opened): link it before measuring, so the
	// phases pay for chaining their own rows only, as a server in steady
	// state does.
	c0 := time.Now()
	nev, err := st.ChainEvents(ctx)
	if err != nil {
		return err
	}
	nau, err := review.ChainAudit(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chained the seeding backlog before measuring: %d events, %d audit rows in %s\n", nev, nau, time.Since(c0).Round(time.Millisecond))
	// Statistics as autovacuum keeps them (within its one-minute naptime):
	// without them the planner takes the just-filled table for empty. After
	// the chaining, as in a running system: statistics taken while every
	// event was unchained make events_chain's "anything unchained?" check a
	// sequential scan of the whole event log (8-18 ms a call at 40,000
	// events, four calls a second), which no running server sees for long.
	if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	p, err := app.New(ctx, pool, nc, app.Options{Config: cfg, Serve: true, Listener: ln})
	if err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()

	keys := make([]string, *reviewers)
	for i := range keys {
		if keys[i], _, err = st.CreateKey(ctx, plat.ID, store.RoleReviewer, fmt.Sprintf("reviewer %d", i)); err != nil {
			return err
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *reviewers * 2}}
	// Warm up: every reviewer's connection, key lookup and the pool's
	// database connections, so the figures are the steady state.
	var warm sync.WaitGroup
	for w := range *reviewers {
		warm.Add(1)
		go func() {
			defer warm.Done()
			for range 3 {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/review/queues", nil)
				req.Header.Set("Authorization", "Bearer "+keys[w])
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	warm.Wait()
	b := &bench{base: base, client: client, keys: keys, pool: pool, seen: map[int64]int{}, statements: *statements, cpuprofile: *cpuprofile}
	var pending int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM review_items WHERE state = 'open'`).Scan(&pending); err != nil {
		return err
	}
	explainClaim := func(when string) error {
		if !*explain {
			return nil
		}
		plan, err := p.Review.ExplainClaim(ctx, review.Reviewer{ID: "key:explain", Role: store.RoleReviewer, TenantID: plat.ID, Platform: true}, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nclaim plan %s:\n%s\n", when, plan)
		return nil
	}
	if err := explainClaim("before the first phase"); err != nil {
		return err
	}
	for i, think := range thinks {
		limit := int64(*decisions)
		if limit == 0 || limit > pending {
			limit = pending
		}
		if limit == 0 {
			break
		}
		if err := b.phase(ctx, stdout, i, think, limit, pending); err != nil {
			return err
		}
		pending -= b.lastDecided
	}
	if err := explainClaim("after the last phase"); err != nil {
		return err
	}
	v0 := time.Now()
	rep, err := review.VerifyAudit(ctx, pool)
	if err != nil {
		return err
	}
	verifyDur := time.Since(v0)
	fmt.Fprintf(stdout, "\nexclusivity: %d items handed out twice over all phases; %d failed requests\n", b.dupes.Load(), b.failures.Load())
	fmt.Fprintf(stdout, "audit chain: %d rows, ok=%v, verified in %s (%.0f rows/s)\n", rep.Rows, rep.OK, verifyDur.Round(time.Millisecond), float64(rep.Rows)/verifyDur.Seconds())
	if b.dupes.Load() > 0 || !rep.OK {
		return errors.New("review invariants broken")
	}
	return nil
}

// bench is the measured part: reviewers claiming and deciding through the
// API, in phases.
type bench struct {
	base       string
	client     *http.Client
	keys       []string
	pool       *pgxpool.Pool
	statements bool
	cpuprofile string

	mu              sync.Mutex
	seen            map[int64]int
	dupes, failures atomic.Int64
	lastDecided     int64
}

// phase runs every reviewer until limit decisions: claim, look at the item
// for an exponentially distributed time of mean think (0: none — the
// saturation test), decide, claim the next. It prints the phase's figures.
func (b *bench) phase(ctx context.Context, stdout io.Writer, n int, think time.Duration, limit, pending int64) error {
	var (
		mu                 sync.Mutex
		claimLat, decLat   []time.Duration
		decided, attempted atomic.Int64
	)
	if b.cpuprofile != "" && n == 0 {
		f, err := os.Create(b.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	pool := b.pool
	if b.statements {
		if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
			return err
		}
	}
	var waits map[string]int
	stopWaits := func() {}
	if b.statements {
		waits, stopWaits = sampleWaits(ctx, pool)
	}
	pg0, err := backendCPU(ctx, pool)
	if err != nil {
		return err
	}
	self0 := selfCPU()
	var wg sync.WaitGroup
	start := time.Now()
	for w := range b.keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(n)))
			for attempted.Add(1) <= limit && ctx.Err() == nil {
				c0 := time.Now()
				var it review.Item
				status, err := post(ctx, b.client, b.base+"/v1/review/claim", b.keys[w], `{}`, &it)
				cl := time.Since(c0)
				if err != nil || (status != 200 && status != 204) {
					b.failures.Add(1)
					fmt.Fprintf(os.Stderr, "claim: %d %v\n", status, err)
					return
				}
				if status == 204 {
					return
				}
				mu.Lock()
				claimLat = append(claimLat, cl)
				mu.Unlock()
				b.mu.Lock()
				b.seen[it.ID]++
				if b.seen[it.ID] > 1 {
					b.dupes.Add(1)
				}
				b.mu.Unlock()
				if think > 0 {
					select {
					case <-time.After(time.Duration(rng.ExpFloat64() * float64(think))):
					case <-ctx.Done():
						return
					}
				}
				d0 := time.Now()
				status, err = post(ctx, b.client, fmt.Sprintf("%s/v1/review/items/%d/decision", b.base, it.ID), b.keys[w],
					`{"markets":{"DE":"block","US":"allow"},"reason":"trademark_infringement","note":"bench"}`, nil)
				dl := time.Since(d0)
				if err != nil || status != 200 {
					b.failures.Add(1)
					fmt.Fprintf(os.Stderr, "decide %d: %d %v\n", it.ID, status, err)
					continue
				}
				decided.Add(1)
				mu.Lock()
				decLat = append(decLat, dl)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	selfUsed := selfCPU() - self0
	stopWaits()
	pg1, err := backendCPU(ctx, pool)
	if err != nil {
		return err
	}
	b.lastDecided = decided.Load()

	slices.Sort(claimLat)
	slices.Sort(decLat)
	mode := "saturation: no time between claim and decision (capacity; latency = reviewers / throughput)"
	if think > 0 {
		mode = fmt.Sprintf("paced: each reviewer looks at an item for an exponentially distributed time of mean %s before deciding", think)
	}
	fmt.Fprintf(stdout, "\nphase %d — %s\n%d reviewers, %d pending at start, %d claimed and decided in %s on %d CPUs (GOMAXPROCS %d)\n",
		n+1, mode, len(b.keys), pending, decided.Load(), wall.Round(time.Millisecond), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tp50\tp90\tp99\tmax\t")
	fmt.Fprintf(tw, "claim\t%s\t%s\t%s\t%s\t\n", pct(claimLat, 50), pct(claimLat, 90), pct(claimLat, 99), pct(claimLat, 100))
	fmt.Fprintf(tw, "decide\t%s\t%s\t%s\t%s\t\n", pct(decLat, 50), pct(decLat, 90), pct(decLat, 99), pct(decLat, 100))
	tw.Flush()
	fmt.Fprintf(stdout, "throughput: %.0f claims/s, %.0f claim+decide cycles/s\n", float64(len(claimLat))/wall.Seconds(), float64(decided.Load())/wall.Seconds())
	if n := decided.Load(); n > 0 {
		fmt.Fprintf(stdout, "CPU per claim+decide cycle: %s in PostgreSQL backends, %s in this process (API server and clients); %.1f of %d CPUs busy with this run\n",
			((pg1 - pg0) / time.Duration(n)).Round(10*time.Microsecond), (selfUsed / time.Duration(n)).Round(10*time.Microsecond),
			(pg1-pg0+selfUsed).Seconds()/wall.Seconds(), runtime.NumCPU())
	}
	if b.statements {
		printWaits(stdout, waits)
		if err := printStatements(ctx, pool, stdout, decided.Load()); err != nil {
			return err
		}
	}
	p99 := pct(claimLat, 99)
	fmt.Fprintf(stdout, "target: claim p99 < %s with 10,000 pending — measured %s = %.2f× the target (below 1 meets it)\n", claimTargetP99, p99, float64(p99)/float64(claimTargetP99))
	return nil
}
func post(ctx context.Context, c *http.Client, url, key, body string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode == 200 && out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s", raw)
	}
	return resp.StatusCode, nil
}

// seed records n designs whose verdict puts DE in review (US allowed),
// through the store: the review hook opens one item each.
func seed(ctx context.Context, st *store.Store, tenantID string, n, workers int) error {
	var next atomic.Int64
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				sum := make([]byte, 32)
				_, _ = rand.Read(sum)
				d, _, err := st.InsertDesign(ctx, store.NewDesign{ID: uuid.NewString(), TenantID: tenantID, SHA256: hex.EncodeToString(sum), Bytes: 1000,
					Width: 100, Height: 100, MediaType: "image/png", Product: "tshirt", Markets: []string{"DE", "US"}, Force: true})
				if err != nil {
					errc <- err
					return
				}
				dec := mustertype.Decision{PolicyVersion: "bench/1", Markets: []mustertype.MarketVerdict{
					{Market: "DE", Outcome: mustertype.Review, Reasons: []mustertype.Reason{{Rule: "trademark_uncertain_match_review", Code: "trademark_possible", Outcome: mustertype.Review, Findings: []int{0}}}},
					{Market: "US", Outcome: mustertype.Allow, Reasons: []mustertype.Reason{{Code: "no_rule_matched", Outcome: mustertype.Allow}}},
				}}
				fs := []mustertype.Finding{{Type: mustertype.FindingTrademark, Analyzer: "bank", Bank: "logos", EntryID: "e1", Label: "Brand", Score: 0.7, Box: &mustertype.Box{X: 1, Y: 1, W: 50, H: 50}}}
				if _, _, err := st.RecordResult(ctx, d.ID, nil, fs, dec, map[string]string{"bank": "1"}); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// sampleWaits samples what this database's active backends are doing
// every 5 ms (pg_stat_activity: CPU, or the lock or I/O they wait for) until
// stop is called.
func sampleWaits(ctx context.Context, pool *pgxpool.Pool) (map[string]int, func()) {
	waits := map[string]int{}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			rows, err := pool.Query(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' / ' || left(regexp_replace(query, '\s+', ' ', 'g'), 60)
				FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`)
			if err != nil {
				return
			}
			ws, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return
			}
			for _, w := range ws {
				waits[w]++
			}
		}
	}()
	return waits, func() { close(done); <-stopped }
}

// printWaits prints the most frequent samples of sampleWaits.
func printWaits(w io.Writer, waits map[string]int) {
	type kv struct {
		k string
		n int
	}
	var all []kv
	total := 0
	for k, n := range waits {
		all = append(all, kv{k, n})
		total += n
	}
	slices.SortFunc(all, func(a, b kv) int { return b.n - a.n })
	fmt.Fprintln(w, "active backends sampled every 5 ms (share of samples: wait / statement):")
	for i, e := range all {
		if i == 15 {
			break
		}
		fmt.Fprintf(w, "  %5.1f%%  %s\n", 100*float64(e.n)/float64(max(total, 1)), e.k)
	}
}

// printStatements prints the statements that took most time in this
// database since the reset, per claim+decide cycle.
func printStatements(ctx context.Context, pool *pgxpool.Pool, w io.Writer, cycles int64) error {
	rows, err := pool.Query(ctx, `SELECT calls, total_exec_time, max_exec_time, left(regexp_replace(query, '\s+', ' ', 'g'), 100)
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY total_exec_time DESC LIMIT 20`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(w, "statements by PostgreSQL time (ms per cycle, calls per cycle, ms per call, slowest call ms):")
	for rows.Next() {
		var calls int64
		var total, slowest float64
		var q string
		if err := rows.Scan(&calls, &total, &slowest, &q); err != nil {
			return err
		}
		fmt.Fprintf(w, "  %7.3f  %5.2f  %7.3f  %8.2f  %s\n", total/float64(max(cycles, 1)), float64(calls)/float64(max(cycles, 1)), total/float64(max(calls, 1)), slowest, q)
	}
	return rows.Err()
}

// backendCPU sums the user and system CPU time of this database's
// PostgreSQL backends (the pool keeps its connections open, so the same
// backends serve the whole run), read from /proc.
func backendCPU(ctx context.Context, pool *pgxpool.Pool) (time.Duration, error) {
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return 0, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, pid := range pids {
		total += procCPU(fmt.Sprintf("/proc/%d/stat", pid))
	}
	return total, nil
}

// selfCPU is this process's user and system CPU time.
func selfCPU() time.Duration { return procCPU("/proc/self/stat") }

// procCPU reads utime+stime from a /proc/<pid>/stat file (0 when it cannot).
func procCPU(path string) time.Duration {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// the command name may hold spaces: fields start after its ')'
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := (len(ds)*p + 99) / 100
	if i > 0 {
		i--
	}
	return ds[min(i, len(ds)-1)].Round(10 * time.Microsecond)
}

func freshDB(ctx context.Context, adminURL string, conns int) (*pgxpool.Pool, error) {
	admin, err := pgxpool.New(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	name := fmt.Sprintf("benchreview_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.Database = name
	cfg.MaxConns = int32(conns)
	cfg.MinConns = int32(conns)
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
