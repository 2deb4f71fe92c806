package analyzers

import (
	"context"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/models"
)

// Deps is what an analyzer may need to open: where models and caches live,
// how much parallelism it gets, the database its banks are in, the NATS
// connection that announces bank changes, and the shared ONNX Runtime.
type Deps struct {
	// ModelsDir and CacheDir are where converted models and fetched
	// packages are kept; ORTLib overrides the ONNX Runtime library path.
	ModelsDir, CacheDir, ORTLib string
	// Concurrency is how many designs the worker analyses at once; session
	// pools are sized to it. OrtThreads is each ONNX session's intra-op
	// thread count (0: the cores shared between the sessions).
	Concurrency, OrtThreads int
	// Pool is the database (banks are loaded from it); may be nil for
	// analyzers that need none.
	Pool *pgxpool.Pool
	// NATS announces bank changes; nil means no live updates (muster scan).
	NATS *nats.Conn
	// Logger receives progress and warnings.
	Logger *slog.Logger
	// Progress receives progress bars of long first-start work (building
	// the negative bank); nil discards them.
	Progress io.Writer
	// Runtime returns the process's ONNX Runtime, set up on first use (the
	// library fetched and checksummed) and released by the composition
	// root, so every model-based analyzer shares one environment.
	Runtime func(ctx context.Context) (*models.Runtime, error)
}

// Opener opens an analyzer; close releases what it holds (may be nil).
type Opener func(ctx context.Context, d Deps) (a Analyzer, close func() error, err error)

// Registration names an analyzer and how to open it.
type Registration struct {
	// Name is the analyzer's Name(), what MUSTER_ANALYZERS lists.
	Name string
	// Open opens it.
	Open Opener
}
