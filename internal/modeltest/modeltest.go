// Package modeltest sets up the real model environment for tests and the
// benchmark: the repository's shared cache (var/cache, or $MUSTER_CACHE_DIR),
// the converted models in var/models and an initialized ONNX Runtime.
package modeltest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/muster-dev/muster/internal/nodeenv"
	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/models"
)

// Env is a ready model environment.
type Env struct {
	Root    string
	Install *models.Installation
	Runtime *models.Runtime
}

// Open runs models.Setup against the repository's var/ folders and
// initializes a Runtime on the library it returns. Close the Runtime when done.
func Open(ctx context.Context) (*Env, error) {
	root, err := nodeenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	cache := npmfetch.DefaultCacheDir(os.Getenv)
	if !filepath.IsAbs(cache) {
		cache = filepath.Join(root, cache)
	}
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: filepath.Join(root, models.DefaultModelsDir), CacheDir: cache,
		Models: []string{models.NSFWModel, models.NSFWModelInception}})
	if err != nil {
		return nil, fmt.Errorf("models setup: %w", err)
	}
	rt := models.NewRuntime()
	if err := rt.Init(inst.ORTLib); err != nil {
		return nil, err
	}
	return &Env{Root: root, Install: inst, Runtime: rt}, nil
}
