// Package nodeenv prepares the Node.js reference environment (nsfwjs on
// @tensorflow/tfjs's pure-JS CPU backend, pinned versions from npm) that the
// parity test and the classifier benchmark compare Muster's ONNX model with,
// and finds the repository root so every package shares one cache.
package nodeenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Pinned reference versions.
const (
	TFJSVersion   = "4.22.0"
	NSFWJSVersion = "4.4.0"
)

// ErrNodeUnavailable is wrapped when node or npm cannot be found or the
// reference packages cannot be installed.
var ErrNodeUnavailable = errors.New("node.js reference environment unavailable")

const packageJSON = `{
  "name": "muster-node-parity",
  "private": true,
  "description": "Reference environment for Muster's model parity test and benchmark (generated, do not edit)",
  "dependencies": {
    "@tensorflow/tfjs": "` + TFJSVersion + `",
    "nsfwjs": "` + NSFWJSVersion + `"
  }
}
`

// RepoRoot walks up from the working directory to the directory holding
// Muster's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/muster-dev/muster\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod of github.com/muster-dev/muster) not found above the working directory")
		}
		dir = parent
	}
}

// DefaultDir is the reference environment's folder under the repository root.
func DefaultDir(root string) string { return filepath.Join(root, "var", "cache", "node-parity") }

// Ensure installs the pinned packages into dir with
// `npm install --no-audit --no-fund` unless that was already done for the
// same package.json. It returns the node_modules path.
func Ensure(ctx context.Context, dir string) (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%w: %s not found on PATH (install Node.js ≥ 18 with npm)", ErrNodeUnavailable, tool)
		}
	}
	sum := sha256.Sum256([]byte(packageJSON))
	stamp := hex.EncodeToString(sum[:])
	marker := filepath.Join(dir, "node_modules", ".muster-installed")
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == stamp {
		return filepath.Join(dir, "node_modules"), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(packageJSON), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: npm install in %s: %v: %s", ErrNodeUnavailable, dir, err, strings.TrimSpace(string(out)))
	}
	if err := os.WriteFile(marker, []byte(stamp+"\n"), 0o644); err != nil {
		return "", err
	}
	return filepath.Join(dir, "node_modules"), nil
}

// Script returns the path of one of the reference scripts in models/node.
func Script(root, name string) string { return filepath.Join(root, "models", "node", name) }

// Command returns `node script args…` with MUSTER_NODE_DIR pointing the
// script at the reference environment in dir.
func Command(ctx context.Context, dir, script string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "MUSTER_NODE_DIR="+dir)
	return cmd
}

// EnsureLocked installs the packages of a committed package.json and
// package-lock.json (every package pinned by version and sha512 integrity,
// checked by npm) from srcDir into dir with `npm ci --ignore-scripts`,
// unless that was already done for the same two files. Install scripts are
// skipped: onnxruntime-node's would download CUDA libraries from outside
// the npm registry, and the CPU library is inside the package. It returns
// the node_modules path.
func EnsureLocked(ctx context.Context, srcDir, dir string) (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%w: %s not found on PATH (install Node.js ≥ 18 with npm)", ErrNodeUnavailable, tool)
		}
	}
	h := sha256.New()
	var files [2][]byte
	for i, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(srcDir, name))
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNodeUnavailable, err)
		}
		files[i] = b
		h.Write(b)
	}
	stamp := hex.EncodeToString(h.Sum(nil))
	marker := filepath.Join(dir, "node_modules", ".muster-installed")
	if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == stamp {
		return filepath.Join(dir, "node_modules"), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for i, name := range []string{"package.json", "package-lock.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), files[i], 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: npm ci in %s: %v: %s", ErrNodeUnavailable, dir, err, strings.TrimSpace(string(out)))
	}
	if err := os.WriteFile(marker, []byte(stamp+"\n"), 0o644); err != nil {
		return "", err
	}
	return filepath.Join(dir, "node_modules"), nil
}
