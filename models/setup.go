package models

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/muster-dev/muster/internal/npmfetch"
	"github.com/muster-dev/muster/models/tfjs"
)

// Pinned upstream packages.
const (
	// ORTVersion is the ONNX Runtime version Muster runs (onnxruntime-node's).
	ORTVersion = "1.30.0"
	// ORTPackageSHA256 is the sha256 of `npm pack onnxruntime-node@1.30.0`.
	ORTPackageSHA256 = "6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75"
	// NSFWJSVersion is the nsfwjs release the NSFW model comes from.
	NSFWJSVersion = "4.4.0"
	// NSFWJSPackageSHA256 is the sha256 of `npm pack nsfwjs@4.4.0`.
	NSFWJSPackageSHA256 = "585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382"
	// NSFWModel is the name of the converted nsfwjs MobileNetV2 model.
	NSFWModel = "nsfwjs-mobilenet_v2"
	// NSFWModelMid is the name of nsfwjs's larger MobileNetV2 ("mid") model.
	NSFWModelMid = "nsfwjs-mobilenet_v2_mid"
	// NSFWModelInception is the name of nsfwjs's InceptionV3 model (299×299 input).
	NSFWModelInception = "nsfwjs-inception_v3"
	// DefaultModelsDir is where Setup writes converted models.
	DefaultModelsDir = "var/models"
)

// ortLibSHA256 is the pinned sha256 of libonnxruntime.so.1 inside the
// onnxruntime-node package, per GOARCH.
func ortLibSHA256(arch string) (string, bool) {
	switch arch {
	case "amd64":
		return "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23", true
	case "arm64":
		return "1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76", true
	}
	return "", false
}

func ortLibPath(pkgDir, arch string) string {
	dir := map[string]string{"amd64": "x64", "arm64": "arm64"}[arch]
	return filepath.Join(pkgDir, "bin", "napi-v6", "linux", dir, "libonnxruntime.so.1")
}

// ORTPackage is the pinned npm package that ships the ONNX Runtime library.
func ORTPackage() npmfetch.Package {
	return npmfetch.Package{Name: "onnxruntime-node", Version: ORTVersion, SHA256: ORTPackageSHA256}
}

// NSFWJSPackage is the pinned npm package that ships the NSFW weights.
func NSFWJSPackage() npmfetch.Package {
	return npmfetch.Package{Name: "nsfwjs", Version: NSFWJSVersion, SHA256: NSFWJSPackageSHA256}
}

// NSFWLabels are nsfwjs's classes, in output order, lower-cased.
func NSFWLabels() []string { return []string{"drawing", "hentai", "neutral", "porn", "sexy"} }

// ModelSpec says where a built-in model comes from and how it is fed.
type ModelSpec struct {
	Name          string
	Version       string
	Package       npmfetch.Package
	Path          string // TF.js model folder inside the package
	Labels        []string
	Preprocessing Preprocessing
}

// nsfwjsPreprocessing is nsfwjs's own (dist/cjs/core.js NSFWJS.infer):
// RGB/255 in float32, then tf.image.resizeBilinear(…, [224,224], alignCorners=true).
func nsfwjsPreprocessing() Preprocessing {
	return Preprocessing{
		Channels: "RGB", Scale: 1.0 / 255, Resize: "bilinear", AlignCorners: true,
		Width: 224, Height: 224, Reference: "nsfwjs@4.4.0 dist/cjs/core.js NSFWJS.infer",
	}
}

// nsfwjsInceptionPreprocessing is nsfwjs's for InceptionV3 (options.size 299).
func nsfwjsInceptionPreprocessing() Preprocessing {
	p := nsfwjsPreprocessing()
	p.Width, p.Height = 299, 299
	return p
}

// BuiltinModels lists the models Setup knows how to install.
func BuiltinModels() []ModelSpec {
	return []ModelSpec{
		{Name: NSFWModel, Version: NSFWJSVersion, Package: NSFWJSPackage(), Path: "dist/models/mobilenet_v2", Labels: NSFWLabels(), Preprocessing: nsfwjsPreprocessing()},
		{Name: NSFWModelMid, Version: NSFWJSVersion, Package: NSFWJSPackage(), Path: "dist/models/mobilenet_v2_mid", Labels: NSFWLabels(), Preprocessing: nsfwjsPreprocessing()},
		{Name: NSFWModelInception, Version: NSFWJSVersion, Package: NSFWJSPackage(), Path: "dist/models/inception_v3", Labels: NSFWLabels(), Preprocessing: nsfwjsInceptionPreprocessing()},
	}
}

// SetupConfig configures Setup.
type SetupConfig struct {
	// ModelsDir receives one folder per model (default DefaultModelsDir).
	ModelsDir string
	// CacheDir is npmfetch's cache (default npmfetch.DefaultCacheDir, i.e.
	// $MUSTER_CACHE_DIR or var/cache).
	CacheDir string
	// ORTLib, if set, is the ONNX Runtime library to use instead of the
	// pinned one; default $MUSTER_ORT_LIB. It is not checksummed.
	ORTLib string
	// Models to install (default: NSFWModel).
	Models []string
	// Arch is the GOARCH whose library is fetched (default runtime.GOARCH).
	Arch string
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Logger receives progress (default slog.Default()).
	Logger *slog.Logger
}

// WithDefaults fills zero fields.
func (c SetupConfig) WithDefaults() SetupConfig {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.ModelsDir == "" {
		c.ModelsDir = DefaultModelsDir
	}
	if c.CacheDir == "" {
		c.CacheDir = npmfetch.DefaultCacheDir(c.Getenv)
	}
	if c.ORTLib == "" {
		c.ORTLib = c.Getenv("MUSTER_ORT_LIB")
	}
	if len(c.Models) == 0 {
		c.Models = []string{NSFWModel}
	}
	if c.Arch == "" {
		c.Arch = runtime.GOARCH
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks a defaulted config.
func (c SetupConfig) Validate() error {
	if c.ORTLib == "" {
		if _, ok := ortLibSHA256(c.Arch); !ok {
			return &RuntimeError{Path: "", Err: fmt.Errorf("no pinned ONNX Runtime library for linux/%s; set MUSTER_ORT_LIB", c.Arch)}
		}
	}
	for _, name := range c.Models {
		if _, ok := specByName(name); !ok {
			return fmt.Errorf("setup: unknown model %q", name)
		}
	}
	return nil
}

func specByName(name string) (ModelSpec, bool) {
	for _, s := range BuiltinModels() {
		if s.Name == name {
			return s, true
		}
	}
	return ModelSpec{}, false
}

// Installation is what Setup produced: the runtime library and the models.
type Installation struct {
	// ORTLib is the path of the ONNX Runtime shared library to pass to Runtime.Init.
	ORTLib string
	// ModelsDir holds one folder per model.
	ModelsDir string
	// Models maps model name to its manifest.
	Models map[string]Manifest
}

// ModelDir is the folder of the named model.
func (in *Installation) ModelDir(name string) string { return filepath.Join(in.ModelsDir, name) }

// Setup prepares a machine to run Muster's models: it fetches the pinned
// ONNX Runtime library (checking its sha256) unless MUSTER_ORT_LIB or
// cfg.ORTLib names one, fetches the model packages, converts each model to
// ONNX and writes it with its manifest into cfg.ModelsDir. It is idempotent:
// a model whose manifest, converter version and file checksums are current
// is left alone, so a second call only hashes files. A missing or wrong
// runtime library is a *RuntimeError (errors.Is ErrRuntimeUnavailable).
func Setup(ctx context.Context, cfg SetupConfig) (*Installation, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	inst := &Installation{ModelsDir: cfg.ModelsDir, Models: map[string]Manifest{}}
	lib, err := setupORT(ctx, cfg)
	if err != nil {
		return nil, err
	}
	inst.ORTLib = lib
	for _, name := range cfg.Models {
		spec, _ := specByName(name)
		m, err := setupModel(ctx, cfg, spec)
		if err != nil {
			return nil, fmt.Errorf("setup model %s: %w", name, err)
		}
		inst.Models[name] = m
		log.Debug("model ready", "model", name, "version", m.ModelVersion())
	}
	return inst, nil
}

func setupORT(ctx context.Context, cfg SetupConfig) (string, error) {
	if cfg.ORTLib != "" {
		if _, err := os.Stat(cfg.ORTLib); err != nil {
			return "", &RuntimeError{Path: cfg.ORTLib, Err: fmt.Errorf("MUSTER_ORT_LIB: %w", err)}
		}
		return cfg.ORTLib, nil
	}
	want, _ := ortLibSHA256(cfg.Arch)
	dir, err := npmfetch.Fetch(ctx, cfg.CacheDir, ORTPackage())
	if err != nil {
		return "", &RuntimeError{Err: fmt.Errorf("fetch %s: %w", ORTPackage(), err)}
	}
	lib := ortLibPath(dir, cfg.Arch)
	got, err := npmfetch.FileSHA256(lib)
	if err != nil {
		return "", &RuntimeError{Path: lib, Err: err}
	}
	if got != want {
		return "", &RuntimeError{Path: lib, Err: fmt.Errorf("sha256 %s, want %s: %w", got, want, npmfetch.ErrChecksum)}
	}
	return lib, nil
}

func setupModel(ctx context.Context, cfg SetupConfig, spec ModelSpec) (Manifest, error) {
	pkgDir, err := npmfetch.Fetch(ctx, cfg.CacheDir, spec.Package)
	if err != nil {
		return Manifest{}, err
	}
	srcDir := filepath.Join(pkgDir, filepath.FromSlash(spec.Path))
	files, err := sourceSums(srcDir)
	if err != nil {
		return Manifest{}, err
	}
	dir := filepath.Join(cfg.ModelsDir, spec.Name)
	if m, _, err := LoadManifest(dir); err == nil && m.Converter == tfjs.ConverterVersion && sameSums(m.Source.Files, files) &&
		m.Source.PackageSHA256 == spec.Package.SHA256 {
		return m, nil
	}
	cfg.Logger.Info("converting model", "model", spec.Name, "source", spec.Package.String()+"/"+spec.Path)
	start := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Manifest{}, err
	}
	const file = "model.onnx"
	info, sum, err := tfjs.ConvertDir(srcDir, filepath.Join(dir, file), tfjs.Options{
		DocString: spec.Name + " converted from " + spec.Package.String() + " " + spec.Path,
		Metadata:  map[string]string{"source": spec.Package.String() + "/" + spec.Path, "labels": fmt.Sprint(spec.Labels)},
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("convert: %w", err)
	}
	m := Manifest{
		Name: spec.Name, Version: spec.Version, File: file, SHA256: sum, Converter: tfjs.ConverterVersion,
		Source:        Source{Package: spec.Package.String(), PackageSHA256: spec.Package.SHA256, Path: spec.Path, Files: files},
		Input:         TensorSpec{Name: info.InputName, Shape: info.InputShape, Layout: "NHWC", DType: "float32"},
		Output:        TensorSpec{Name: info.OutputName, Shape: info.OutputShape, DType: "float32"},
		Preprocessing: spec.Preprocessing,
		Labels:        spec.Labels,
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	if err := writeManifest(dir, m); err != nil {
		return Manifest{}, fmt.Errorf("write manifest: %w", err)
	}
	cfg.Logger.Info("model converted", "model", spec.Name, "version", m.ModelVersion(), "nodes", info.Nodes, "params", info.Params, "took", time.Since(start).Round(time.Millisecond))
	return m, nil
}

func sourceSums(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("model source: %w", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		sum, err := npmfetch.FileSHA256(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = sum
	}
	if len(out) == 0 {
		return nil, errors.New("model source: no files")
	}
	return out, nil
}

func sameSums(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
