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

// Analyzers builds the configured analyzers. The NSFW classifier is set up
// on first use (ONNX Runtime and nsfwjs fetched from npm, converted to ONNX,
// checksummed) so a fresh machine needs no manual step.
func Analyzers(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger) ([]analysis.Analyzer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var out []analysis.Analyzer
	for _, name := range cfg.Analyzers {
		switch name {
		case "hash":
			out = append(out, hashing.Analyzer{})
		case "nsfw":
			inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib, Logger: log})
			if err != nil {
				return nil, fmt.Errorf("analyzer nsfw: %w", err)
			}
			rt := models.NewRuntime()
			if err := rt.Init(inst.ORTLib); err != nil {
				return nil, fmt.Errorf("analyzer nsfw: %w", err)
			}
			a, err := nsfw.New(rt, nsfw.Config{ModelsDir: inst.ModelsDir,
				Session: models.SessionConfig{Sessions: 1, IntraOpThreads: cfg.OrtThreads, Logger: log}})
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		default:
			return nil, fmt.Errorf("unknown analyzer %q (available: %v)", name, AnalyzerNames)
		}
	}
	return out, nil
}
