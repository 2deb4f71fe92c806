package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/banks"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/analyzers/listing"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/analyzers/ocr"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/wordmarks"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/mustertype"
)

// Registry lists every analyzer Muster can run, in the order the worker
// runs them. Adding an analyzer is one package under analyzers/ and one line
// here.
func Registry() []analyzers.Registration {
	return []analyzers.Registration{
		{Name: mustertype.AnalyzerHash, Open: hashing.Open},
		{Name: mustertype.AnalyzerNSFW, Open: nsfw.Open},
		{Name: mustertype.AnalyzerBank, Open: banks.Open},
		{Name: mustertype.AnalyzerOCR, Open: ocr.Open},
		{Name: mustertype.AnalyzerListing, Open: listing.Open},
	}
}

// AnalyzerNames lists the analyzers MUSTER_ANALYZERS may name.
func AnalyzerNames() []string {
	var out []string
	for _, r := range Registry() {
		out = append(out, r.Name)
	}
	return out
}

// Analyzers opens the configured analyzers, in cfg.Analyzers order, from
// the registry and returns a function that releases what they hold (ONNX
// sessions, the runtime). Model-based analyzers share one ONNX Runtime, set
// up on first use. nc may be nil: no live bank updates, as in `muster scan`.
func Analyzers(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, nc *nats.Conn, log *slog.Logger) (_ []analyzers.Analyzer, closeAll func(), err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var closers []func() error
	// release is a local, not the named result: an error return sets the
	// result to nil before the deferred cleanup runs.
	release := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	var rt *models.Runtime
	deps := analyzers.Deps{
		ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib,
		Concurrency: cfg.Concurrency, OrtThreads: cfg.OrtThreads,
		Pool: pool, NATS: nc, Logger: log, Progress: &logProgress{log: log, every: 10 * time.Second},
		Runtime: func(ctx context.Context) (*models.Runtime, error) {
			if rt != nil {
				return rt, nil
			}
			inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib, Logger: log})
			if err != nil {
				return nil, err
			}
			r := models.NewRuntime()
			if err := r.Init(inst.ORTLib); err != nil {
				return nil, err
			}
			rt = r
			closers = append(closers, r.Close)
			return rt, nil
		},
	}
	reg := map[string]analyzers.Opener{}
	for _, r := range Registry() {
		reg[r.Name] = r.Open
	}
	var out []analyzers.Analyzer
	for _, name := range cfg.Analyzers {
		open, ok := reg[name]
		if !ok {
			return nil, nil, fmt.Errorf("unknown analyzer %q (available: %v)", name, AnalyzerNames())
		}
		a, closeFn, err := open(ctx, deps)
		if err != nil {
			return nil, nil, err
		}
		if closeFn != nil {
			closers = append(closers, closeFn)
		}
		out = append(out, a)
	}
	var left []string
	for _, r := range Registry() {
		if !slices.Contains(cfg.Analyzers, r.Name) {
			left = append(left, r.Name)
		}
	}
	if len(left) > 0 {
		log.Warn("analyzers left out by MUSTER_ANALYZERS: every design is held for review (analysis_incomplete)", "omitted", left)
		out = append(out, omitted{names: left})
	}
	return out, release, nil
}

// OmittedAnalyzer names the analysis that records which analyzers
// MUSTER_ANALYZERS left out.
const OmittedAnalyzer = "omitted"

// omitted fails closed when the configuration leaves analyzers out: a
// signal that was never computed is a missing signal, not a clean one, so
// every design gets an incomplete finding per omitted analyzer and the
// policy engine holds every market for review (CodeAnalysisIncomplete).
type omitted struct{ names []string }

func (o omitted) Name() string    { return OmittedAnalyzer }
func (o omitted) Version() string { return "omitted-1" }

func (o omitted) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	res := analyzers.Result{Data: map[string][]string{"omitted": o.names}}
	for _, n := range o.names {
		res.Findings = append(res.Findings, mustertype.Finding{Type: mustertype.FindingIncomplete, Analyzer: OmittedAnalyzer,
			Label: "analyzer " + n + " did not run (left out of MUSTER_ANALYZERS)"})
	}
	return res, nil
}

// SeedBanks creates the default banks that do not exist yet: the symbol bank
// drawn by Muster and the trademark bank imported from the pinned
// simple-icons package. Progress bars go to progress. nc, if not nil,
// announces the new versions to running workers.
func SeedBanks(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, nc *nats.Conn, progress io.Writer) error {
	// Several workers may start on one fresh database: seed under a
	// session-level advisory lock so only one imports.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("seed banks: %w", err)
	}
	defer conn.Release()
	const seedLock = 0x6d757374_62616e6b // "mustbank"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(seedLock)); err != nil {
		return fmt.Errorf("seed banks: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(seedLock))
	var ann bank.Announcer
	if nc != nil {
		ann = bank.NATSAnnouncer{Conn: nc}
	}
	st := bank.NewStore(pool, ann)
	if _, err := st.Bank(ctx, bank.SymbolsBank); errors.Is(err, bank.ErrNotFound) {
		if _, err := bank.SeedSymbols(ctx, st, match.Config{}, "seed", progress); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if _, err := st.Bank(ctx, bank.SimpleIconsBank); errors.Is(err, bank.ErrNotFound) {
		if _, err := bank.ImportSimpleIcons(ctx, st, bank.ImportOptions{CacheDir: cfg.CacheDir, Actor: "seed"}, progress); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	// Word marks of the trademark bank: each brand's name and aliases from
	// the pinned simple-icons releases (entries that have them already are
	// left as they are; one bank version when any changed).
	wm, err := wordmarks.Load(ctx, cfg.CacheDir)
	if err != nil {
		return fmt.Errorf("seed word marks: %w", err)
	}
	current, _, err := st.TextEntries(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, e := range current {
		if e.Bank == bank.SimpleIconsBank {
			have[e.ID] = true
		}
	}
	missing := map[string][]string{}
	for slug, marks := range wm.Map() {
		if !have[slug] {
			missing[slug] = marks
		}
	}
	if _, err := st.SetWordMarks(ctx, bank.SimpleIconsBank, missing, "seed"); err != nil {
		return fmt.Errorf("seed word marks: %w", err)
	}
	return nil
}

// logProgress turns a progress bar into a log line every so often, so a
// long first start (the negative bank takes minutes) is not silent
// whatever the log's format.
type logProgress struct {
	log   *slog.Logger
	every time.Duration
	mu    sync.Mutex
	last  time.Time
}

// Write logs the latest state of the bar at most once per interval.
func (p *logProgress) Write(b []byte) (int, error) {
	if p.log == nil {
		return len(b), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := strings.TrimSpace(string(b))
	if i := strings.LastIndexAny(line, "\r\n"); i >= 0 {
		line = strings.TrimSpace(line[i+1:])
	}
	if line != "" && time.Since(p.last) >= p.every {
		p.last = time.Now()
		p.log.Info("first-start progress", "state", line)
	}
	return len(b), nil
}
