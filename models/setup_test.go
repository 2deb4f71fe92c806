package models_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/nodeenv"
	"github.com/muster-dev/muster/models"
)

func TestSetupIdempotentAndRepairs(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	cfg := models.SetupConfig{ModelsDir: t.TempDir(), CacheDir: filepath.Join(e.root, "var", "cache")}
	if d := os.Getenv("MUSTER_CACHE_DIR"); d != "" {
		cfg.CacheDir = d
	}
	first, err := models.Setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := first.Models[models.NSFWModel]
	if m.SHA256 != e.inst.Models[models.NSFWModel].SHA256 {
		t.Fatalf("conversion is not deterministic: %s vs %s", m.SHA256, e.inst.Models[models.NSFWModel].SHA256)
	}
	path := filepath.Join(first.ModelDir(models.NSFWModel), m.File)
	st1, _ := os.Stat(path)
	start := time.Now()
	second, err := models.Setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(path)
	t.Logf("second Setup took %v", time.Since(start))
	if !st2.ModTime().Equal(st1.ModTime()) || second.Models[models.NSFWModel].SHA256 != m.SHA256 {
		t.Fatal("second Setup rewrote an up-to-date model")
	}
	// A damaged model file is detected and rebuilt.
	if err := os.WriteFile(path, []byte("not onnx"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := models.LoadManifest(first.ModelDir(models.NSFWModel)); !errors.Is(err, models.ErrModelNotInstalled) {
		t.Fatalf("LoadManifest on a damaged file: %v, want ErrModelNotInstalled", err)
	}
	if _, err := models.Setup(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := models.LoadManifest(first.ModelDir(models.NSFWModel)); err != nil {
		t.Fatalf("after repair: %v", err)
	}
}

func TestSetupRuntimeErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  models.SetupConfig
	}{
		{"MUSTER_ORT_LIB missing", models.SetupConfig{Getenv: func(k string) string {
			if k == "MUSTER_ORT_LIB" {
				return "/nonexistent/libonnxruntime.so"
			}
			return ""
		}}},
		{"unsupported architecture", models.SetupConfig{Arch: "riscv64", Getenv: func(string) string { return "" }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.ModelsDir, tt.cfg.CacheDir = t.TempDir(), t.TempDir()
			_, err := models.Setup(ctx, tt.cfg)
			var re *models.RuntimeError
			if !errors.Is(err, models.ErrRuntimeUnavailable) || !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RuntimeError", err)
			}
		})
	}
}

func TestRuntimeInitMissingLibrary(t *testing.T) {
	t.Parallel()
	rt := models.NewRuntime()
	err := rt.Init(filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
	if !errors.Is(err, models.ErrRuntimeUnavailable) || rt.Ready() {
		t.Fatalf("err = %v, ready = %v", err, rt.Ready())
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRuntimeInitNotALibrary loads a file that is not a shared library in a
// fresh process (the ORT environment is process-global): a clear error,
// not a crash.
func TestRuntimeInitNotALibrary(t *testing.T) {
	if lib := os.Getenv("MUSTER_TEST_BAD_ORT_LIB"); lib != "" {
		rt := models.NewRuntime()
		err := rt.Init(lib)
		if !errors.Is(err, models.ErrRuntimeUnavailable) {
			t.Fatalf("Init(%s) = %v, want ErrRuntimeUnavailable", lib, err)
		}
		t.Logf("error: %v", err)
		return
	}
	if _, err := nodeenv.RepoRoot(); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	if err := os.WriteFile(bad, []byte("\x7fELF but not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRuntimeInitNotALibrary$", "-test.v")
	cmd.Env = append(os.Environ(), "MUSTER_TEST_BAD_ORT_LIB="+bad)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
