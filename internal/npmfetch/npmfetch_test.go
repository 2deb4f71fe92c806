package npmfetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A tiny real package from the npm registry, pinned by its tarball's sha256.
var isNumber = Package{Name: "is-number", Version: "7.0.0", SHA256: "7b75c1057198cf97696909a9bee176c9c5e9bcb5b03bf3ecef2f484defadd51e"}

// Not parallel: it changes the working directory.
func TestFetchVerifiesAndCaches(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches from the npm registry")
	}
	// A relative cache directory must work: npm runs in a temporary directory.
	wd := t.TempDir()
	t.Chdir(wd)
	dir, err := Fetch(context.Background(), "cache", isNumber)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Fatalf("unpacked package lacks package.json: %v", err)
	}
	again, err := Fetch(context.Background(), "cache", isNumber)
	if err != nil || again != dir {
		t.Fatalf("second fetch: %s %v, want the cached %s", again, err, dir)
	}
	bad := isNumber
	bad.SHA256 = "0000000000000000000000000000000000000000000000000000000000000000"
	if _, err := Fetch(context.Background(), filepath.Join(wd, "other"), bad); !errors.Is(err, ErrChecksum) {
		t.Fatalf("wrong pin: err = %v, want ErrChecksum", err)
	}
	if _, err := Fetch(context.Background(), "cache", Package{Name: "is-number"}); err == nil {
		t.Fatal("an unpinned package was fetched")
	}
}
