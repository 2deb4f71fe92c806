package models_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/nodeenv"
	"github.com/muster-dev/muster/internal/testimages"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/preprocess"
)

// testEnv is the real ONNX Runtime plus the converted model, set up once per
// test binary in the repository's shared var/ cache.
type testEnv struct {
	root string
	inst *models.Installation
	rt   *models.Runtime
	err  error
}

var (
	envOnce sync.Once
	env     testEnv
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env.rt != nil {
		_ = env.rt.Close()
	}
	os.Exit(code)
}

// setup returns the shared environment. Without -short a missing runtime,
// model or toolchain fails the test; with -short (documented in
// docs/models.md) tests that need them are skipped.
func setup(t *testing.T) *testEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping a test that needs ONNX Runtime, the converted model and Node.js")
	}
	envOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		e, err := modeltest.Open(ctx)
		if err != nil {
			env.err = err
			return
		}
		env.root, env.inst, env.rt = e.Root, e.Install, e.Runtime
	})
	if env.err != nil {
		t.Fatalf("model environment unavailable (run `muster models setup`, or pass -short to skip): %v", env.err)
	}
	return &env
}

type refResult struct {
	Name          string    `json:"name"`
	Probabilities []float64 `json:"probabilities"`
}

type parityCase struct {
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	RGB    string `json:"rgb"`
}

// TestParityWithNSFWJS is the proof that the conversion is right: ≥ 50
// varied images go through nsfwjs on tfjs's CPU backend in Node and through
// Muster (imaging.Decode → preprocess → converted ONNX model under ONNX
// Runtime); every class probability must agree within 1e-3, and Muster's
// preprocessing must reproduce tfjs's resizeBilinear(alignCorners) tensor.
func TestParityWithNSFWJS(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	nodeDir := nodeenv.DefaultDir(e.root)
	if _, err := nodeenv.Ensure(ctx, nodeDir); err != nil {
		t.Fatalf("parity needs the Node.js reference (or -short to skip): %v", err)
	}
	cases, err := testimages.Generate(50)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, fixtures(t)...)
	if len(cases) < 50 {
		t.Fatalf("only %d parity images", len(cases))
	}
	work := t.TempDir()
	var list []parityCase
	inputs := make([][]float32, len(cases))
	for i, c := range cases {
		im, err := imaging.Decode(c.Data, c.MediaType, imaging.Limits{})
		if err != nil {
			t.Fatalf("%s: decode: %v", c.Name, err)
		}
		px := preprocess.FromImage(im, color.White)
		file := c.Name + ".rgb"
		if err := os.WriteFile(filepath.Join(work, file), px.RGB(), 0o644); err != nil {
			t.Fatal(err)
		}
		list = append(list, parityCase{Name: c.Name, Width: px.Width, Height: px.Height, RGB: file})
		inputs[i] = make([]float32, 224*224*3)
		if err := preprocess.ResizeBilinear(inputs[i], px, image.Rect(0, 0, px.Width, px.Height), 224, 224, true); err != nil {
			t.Fatal(err)
		}
	}
	// tfjs's pure-JS CPU backend needs about 2 s per image here: split the
	// cases over one Node process per core.
	workers := max(1, min(runtime.NumCPU(), 4))
	start := time.Now()
	var ref struct {
		Backend string
		Results []refResult
	}
	refs := make([][]refResult, workers)
	backends := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		dir := filepath.Join(work, fmt.Sprint(w))
		var part []parityCase
		for i := w; i < len(list); i += workers {
			part = append(part, list[i])
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range part {
			if err := os.Rename(filepath.Join(work, c.RGB), filepath.Join(dir, c.RGB)); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := json.Marshal(part)
		if err := os.WriteFile(filepath.Join(dir, "cases.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(w int, dir string) {
			defer wg.Done()
			cmd := nodeenv.Command(ctx, nodeDir, nodeenv.Script(e.root, "parity.cjs"), dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[w] = fmt.Errorf("nsfwjs reference run failed: %v\n%s", err, out)
				return
			}
			var r struct {
				Backend string      `json:"backend"`
				Results []refResult `json:"results"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "out.json"))
			if err == nil {
				err = json.Unmarshal(b, &r)
			}
			refs[w], backends[w], errs[w] = r.Results, r.Backend, err
		}(w, dir)
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		if backends[w] != "cpu" {
			t.Fatalf("reference ran on backend %q, want cpu", backends[w])
		}
	}
	ref.Backend = "cpu"
	ref.Results = make([]refResult, len(list))
	for w := range refs {
		for j, r := range refs[w] {
			ref.Results[w+j*workers] = r
		}
	}
	t.Logf("nsfwjs (tfjs cpu, %d node processes) classified %d images in %v", workers, len(cases), time.Since(start).Round(time.Millisecond))
	resized := func(name string) string {
		for w := 0; w < workers; w++ {
			p := filepath.Join(work, fmt.Sprint(w), name+".resized.f32")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return filepath.Join(work, name+".resized.f32")
	}

	// 1. Preprocessing: Go's tensor against tfjs's, value by value.
	var maxPre float64
	exact := 0
	for i, c := range cases {
		raw, err := os.ReadFile(resized(c.Name))
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 4*len(inputs[i]) {
			t.Fatalf("%s: tfjs tensor has %d bytes, want %d", c.Name, len(raw), 4*len(inputs[i]))
		}
		same := true
		for j, v := range inputs[i] {
			want := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			if d := math.Abs(float64(v - want)); d > 0 {
				same = false
				maxPre = math.Max(maxPre, d)
			}
		}
		if same {
			exact++
		}
	}
	t.Logf("preprocessing: %d/%d tensors bit-identical to tfjs, max abs difference %.3g", exact, len(cases), maxPre)
	if maxPre > 1e-6 {
		t.Errorf("preprocessing differs from tfjs resizeBilinear(alignCorners=true) by up to %g", maxPre)
	}

	// 2. Probabilities: the whole pipeline through the batcher under ORT.
	clf, err := models.NewClassifier(e.rt, e.inst.ModelDir(models.NSFWModel), models.SessionConfig{Sessions: 1, MaxBatch: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer clf.Close()
	got, err := clf.Classify(ctx, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	labels := clf.Manifest().Labels
	var maxDiff float64
	worst := ""
	dominant := map[string]int{}
	for i, c := range cases {
		r := ref.Results[i]
		if r.Name != c.Name {
			t.Fatalf("reference result %d is %s, want %s", i, r.Name, c.Name)
		}
		top := 0
		for k := range labels {
			d := math.Abs(float64(got[i][k]) - r.Probabilities[k])
			if d > maxDiff {
				maxDiff, worst = d, fmt.Sprintf("%s/%s: onnx %.6f nsfwjs %.6f", c.Name, labels[k], got[i][k], r.Probabilities[k])
			}
			if got[i][k] > got[i][top] {
				top = k
			}
		}
		dominant[labels[top]]++
	}
	t.Logf("probabilities: max abs difference %.3g over %d images × %d classes (worst %s); top classes %v", maxDiff, len(cases), len(labels), worst, dominant)
	if maxDiff > 1e-3 {
		t.Errorf("ONNX model disagrees with nsfwjs by %g > 1e-3 (%s)", maxDiff, worst)
	}
	if len(dominant) < 2 {
		t.Errorf("every image got the same top class %v: the image set is not varied enough to prove parity", dominant)
	}
}

// fixtures are the small committed images in testdata/.
func fixtures(t *testing.T) []testimages.Case {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.png"))
	jpgs, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	var out []testimages.Case
	for _, p := range append(paths, jpgs...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, testimages.Case{Name: "fixture-" + filepath.Base(p), Data: b})
	}
	return out
}
