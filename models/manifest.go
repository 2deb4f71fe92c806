package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/muster-dev/muster/internal/npmfetch"
)

// ManifestFile is the manifest's file name inside a model directory.
const ManifestFile = "manifest.json"

// ErrModelNotInstalled is wrapped when a model directory has no valid
// manifest or its ONNX file does not match it; run Setup.
var ErrModelNotInstalled = errors.New("model not installed")

// Manifest describes one installed ONNX model: what it is, where it came
// from, and how to feed it.
type Manifest struct {
	// Name identifies the model, e.g. "nsfwjs-mobilenet_v2".
	Name string `json:"name"`
	// Version is the upstream version of the weights, e.g. "4.4.0".
	Version string `json:"version"`
	// File is the ONNX file name, relative to the manifest.
	File string `json:"file"`
	// SHA256 is the hex sha256 of the ONNX file.
	SHA256 string `json:"sha256"`
	// Converter is the converter version that wrote the file (tfjs.ConverterVersion).
	Converter string `json:"converter"`
	// Source says which package and files the model was converted from.
	Source Source `json:"source"`
	// Input and Output describe the graph's tensors; -1 is the dynamic batch axis.
	Input  TensorSpec `json:"input"`
	Output TensorSpec `json:"output"`
	// Preprocessing is how an image becomes the input tensor.
	Preprocessing Preprocessing `json:"preprocessing"`
	// Labels names the output classes in order.
	Labels []string `json:"labels"`
}

// Source is the upstream origin of a converted model.
type Source struct {
	Package string `json:"package"` // "nsfwjs@4.4.0"
	// PackageSHA256 is the pinned sha256 of the npm tarball.
	PackageSHA256 string `json:"package_sha256"`
	Path          string `json:"path"` // folder inside the package
	// Files maps each source file to its sha256.
	Files map[string]string `json:"files"`
}

// TensorSpec describes a graph input or output.
type TensorSpec struct {
	Name   string  `json:"name"`
	Shape  []int64 `json:"shape"`
	Layout string  `json:"layout,omitempty"` // "NHWC"
	DType  string  `json:"dtype"`
}

// Preprocessing describes how pixels become the model input.
type Preprocessing struct {
	// Channels is the channel order, "RGB".
	Channels string `json:"channels"`
	// Scale multiplies 0–255 values (1/255 → 0..1); values are divided by 255 exactly.
	Scale float64 `json:"scale"`
	// Resize is the interpolation, "bilinear".
	Resize string `json:"resize"`
	// AlignCorners and HalfPixelCenters are tf.image.resizeBilinear's flags.
	AlignCorners     bool `json:"align_corners"`
	HalfPixelCenters bool `json:"half_pixel_centers"`
	// Width and Height are the input size.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Reference names the implementation this follows.
	Reference string `json:"reference"`
}

// ModelVersion is the version string stored with every analysis:
// name@version+first 12 hex digits of the ONNX file's sha256.
func (m Manifest) ModelVersion() string {
	sum := m.SHA256
	if len(sum) > 12 {
		sum = sum[:12]
	}
	return m.Name + "@" + m.Version + "+" + sum
}

// Validate checks the fields a session needs.
func (m Manifest) Validate() error {
	switch {
	case m.Name == "" || m.Version == "" || m.File == "":
		return errors.New("manifest: name, version and file are required")
	case len(m.SHA256) != 64:
		return errors.New("manifest: sha256 must be 64 hex digits")
	case m.Input.Name == "" || len(m.Input.Shape) != 4 || m.Input.Layout != "NHWC":
		return fmt.Errorf("manifest: input must be a named NHWC 4-D tensor, got %+v", m.Input)
	case m.Output.Name == "" || len(m.Output.Shape) != 2:
		return fmt.Errorf("manifest: output must be a named 2-D tensor, got %+v", m.Output)
	case int64(len(m.Labels)) != m.Output.Shape[1]:
		return fmt.Errorf("manifest: %d labels for %d outputs", len(m.Labels), m.Output.Shape[1])
	case m.Preprocessing.Width != int(m.Input.Shape[2]) || m.Preprocessing.Height != int(m.Input.Shape[1]):
		return errors.New("manifest: preprocessing size does not match the input shape")
	}
	return nil
}

// LoadManifest reads dir/manifest.json and checks that the ONNX file it
// names exists and has the recorded sha256. It returns the manifest and the
// ONNX file's path; a missing or stale install wraps ErrModelNotInstalled.
func LoadManifest(dir string) (Manifest, string, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, "", fmt.Errorf("load manifest from %s: %w (%v)", dir, ErrModelNotInstalled, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, "", fmt.Errorf("load manifest from %s: %w (%v)", dir, ErrModelNotInstalled, err)
	}
	if err := m.Validate(); err != nil {
		return m, "", fmt.Errorf("load manifest from %s: %w (%v)", dir, ErrModelNotInstalled, err)
	}
	path := filepath.Join(dir, m.File)
	sum, err := npmfetch.FileSHA256(path)
	if err != nil {
		return m, "", fmt.Errorf("load model %s: %w (%v)", m.Name, ErrModelNotInstalled, err)
	}
	if sum != m.SHA256 {
		return m, "", fmt.Errorf("load model %s: %s has sha256 %s, manifest says %s: %w", m.Name, path, sum, m.SHA256, ErrModelNotInstalled)
	}
	return m, path, nil
}

func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestFile))
}
