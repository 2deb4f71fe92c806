package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/models"
)

// AnalyzerNames lists the analyzers MUSTER_ANALYZERS may name.
var AnalyzerNames = []string{"hash", "nsfw", "bank"}

// Analyzers builds the configured analyzers and returns a function that
// releases what they hold (ONNX sessions, the runtime). The NSFW classifier
// is set up on first use (ONNX Runtime and nsfwjs fetched from npm, converted
// to ONNX, checksummed) so a fresh machine needs no manual step. Its session
// pool is sized to the worker's concurrency, the cores shared between the
// sessions, and images from concurrent analyses are batched dynamically.
//
// The bank analyzer loads every bank from PostgreSQL once; with a NATS
// connection it then applies announced bank changes incrementally until ctx
// ends (nc may be nil: no live updates, as in `muster scan`).
func Analyzers(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, nc *nats.Conn, log *slog.Logger) (_ []analyzers.Analyzer, closeAll func(), err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var closers []func() error
	closeAll = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	var out []analyzers.Analyzer
	for _, name := range cfg.Analyzers {
		switch name {
		case "hash":
			out = append(out, hashing.Analyzer{})
		case "nsfw":
			inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib, Logger: log})
			if err != nil {
				return nil, nil, fmt.Errorf("analyzer nsfw: %w", err)
			}
			rt := models.NewRuntime()
			if err := rt.Init(inst.ORTLib); err != nil {
				return nil, nil, fmt.Errorf("analyzer nsfw: %w", err)
			}
			closers = append(closers, rt.Close)
			a, err := nsfw.New(rt, nsfw.Config{ModelsDir: inst.ModelsDir,
				Session: models.SessionConfig{Sessions: cfg.Concurrency, IntraOpThreads: cfg.OrtThreads, Logger: log}})
			if err != nil {
				return nil, nil, err
			}
			closers = append(closers, a.Close)
			out = append(out, a)
		case "bank":
			set, err := bank.NewSet(bank.NewStore(pool, nil), bank.SetConfig{Logger: log})
			if err != nil {
				return nil, nil, err
			}
			if err := set.Load(ctx); err != nil {
				return nil, nil, fmt.Errorf("analyzer bank: load banks: %w", err)
			}
			// Shapes of non-brand icons that suppress false matches of generic
			// art (stars, sparkles, eyes); built once, then cached on disk.
			log.Info("loading the negative bank (the first run rasterises ~10,000 icons)")
			neg, err := bank.LoadNegative(ctx, bank.NegativeOptions{CacheDir: cfg.CacheDir}, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("analyzer bank: %w", err)
			}
			set.Matcher().SetNegative(neg)
			if len(set.Versions()) == 0 {
				log.Warn("no banks loaded: the bank analyzer will find nothing (seed them with muster bank seed)")
			}
			if nc != nil {
				if err := set.Watch(ctx, nc); err != nil {
					return nil, nil, err
				}
			}
			out = append(out, bank.NewAnalyzer(set, bank.AnalyzerConfig{}))
		default:
			return nil, nil, fmt.Errorf("unknown analyzer %q (available: %v)", name, AnalyzerNames)
		}
	}
	return out, closeAll, nil
}

// SeedBanks creates the default banks that do not exist yet: the symbol bank
// drawn by Muster and the trademark bank imported from the pinned
// simple-icons package. Progress bars go to progress. nc, if not nil,
// announces the new versions to running workers.
func SeedBanks(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, nc *nats.Conn, progress io.Writer) error {
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
	return nil
}
