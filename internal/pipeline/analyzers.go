package pipeline

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/muster-dev/muster/internal/analysis"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/hashing"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/nsfw"
)

// AnalyzerNames lists the analyzers MUSTER_ANALYZERS may name.
var AnalyzerNames = []string{"hash", "nsfw"}

// Analyzers builds the configured analyzers and returns a function that
// releases what they hold (ONNX sessions, the runtime). The NSFW classifier
// is set up on first use (ONNX Runtime and nsfwjs fetched from npm, converted
// to ONNX, checksummed) so a fresh machine needs no manual step. One ONNX
// session with all cores serves every worker goroutine: the classifier
// batches their images dynamically.
func Analyzers(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger) (_ []analysis.Analyzer, closeAll func(), err error) {
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
	var out []analysis.Analyzer
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
				Session: models.SessionConfig{Sessions: 1, IntraOpThreads: cfg.OrtThreads, Logger: log}})
			if err != nil {
				return nil, nil, err
			}
			closers = append(closers, a.Close)
			out = append(out, a)
		default:
			return nil, nil, fmt.Errorf("unknown analyzer %q (available: %v)", name, AnalyzerNames)
		}
	}
	return out, closeAll, nil
}
