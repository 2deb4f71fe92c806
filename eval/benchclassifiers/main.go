// Command bench measures the NSFW classifier (`make bench-classifiers`):
// images/second and p50 batch latency for batch sizes 1, 4 and 16 with the
// converted model under ONNX Runtime, raw session time alone and Muster's
// whole path (preprocessing from decoded pixels, the batcher, the session,
// post-processing), and — in the same run, on the same images — nsfwjs on
// tfjs's CPU backend in Node, printed as a ratio.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/nodeenv"
	"github.com/muster-dev/muster/internal/testimages"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/models/preprocess"
)

type result struct {
	images  int
	seconds float64
	p50     time.Duration
}

func (r result) rate() float64 { return float64(r.images) / r.seconds }

func main() {
	var (
		nImages   = flag.Int("images", 16, "distinct images (Go and Node use the same ones)")
		rounds    = flag.Int("rounds", 6, "passes over the images on the ONNX Runtime side")
		threads   = flag.Int("threads", runtime.NumCPU(), "intra-op threads of the ONNX Runtime session")
		skipNode  = flag.Bool("no-node", false, "skip the nsfwjs reference (no ratio)")
		batchList = flag.String("batches", "1,4,16", "batch sizes")
	)
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := run(*nImages, *rounds, *threads, *skipNode, *batchList); err != nil {
		fmt.Fprintln(os.Stderr, "bench-classifiers:", err)
		os.Exit(1)
	}
}

func run(nImages, rounds, threads int, skipNode bool, batchList string) error {
	ctx := context.Background()
	var batches []int
	for _, s := range strings.Split(batchList, ",") {
		var b int
		if _, err := fmt.Sscan(s, &b); err != nil || b < 1 {
			return fmt.Errorf("bad batch size %q", s)
		}
		if b > nImages {
			return fmt.Errorf("batch size %d is larger than -images %d", b, nImages)
		}
		batches = append(batches, b)
	}
	env, err := modeltest.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Runtime.Close()
	cases, err := testimages.Generate(nImages)
	if err != nil {
		return err
	}
	pixels := make([]preprocess.Pixels, len(cases))
	designs := make([]*imaging.Image, len(cases))
	for i, c := range cases {
		im, err := imaging.Decode(c.Data, c.MediaType, imaging.Limits{})
		if err != nil {
			return err
		}
		designs[i] = im
		pixels[i] = preprocess.FromImage(im, color.White)
	}
	inputs := make([][]float32, len(cases))
	for i, px := range pixels {
		inputs[i] = make([]float32, 224*224*3)
		if err := preprocess.ResizeBilinear(inputs[i], px, image.Rect(0, 0, px.Width, px.Height), 224, 224, true); err != nil {
			return err
		}
	}
	fmt.Printf("NSFW classifier benchmark: %s, ONNX Runtime %s, %d intra-op threads, %d CPUs, %d images × %d rounds\n",
		env.Install.Models[models.NSFWModel].ModelVersion(), env.Runtime.Version(), threads, runtime.NumCPU(), len(cases), rounds)

	// Node first, so its CPU use does not overlap the Go measurements.
	nodeRuns := map[int]result{}
	if !skipNode {
		nodeRuns, err = runNode(ctx, env.Root, pixels, cases, batches)
		if err != nil {
			return fmt.Errorf("nsfwjs reference: %w (pass -no-node to skip)", err)
		}
	}

	raw := map[int]result{}
	full := map[int]result{}
	for _, b := range batches {
		clf, err := models.NewClassifier(env.Runtime, env.Install.ModelDir(models.NSFWModel),
			models.SessionConfig{Sessions: 1, IntraOpThreads: threads, MaxBatch: b, MaxWait: 50 * time.Millisecond})
		if err != nil {
			return err
		}
		// Warm up (first runs allocate and tune).
		if _, err := clf.RunBatch(ctx, inputs[:b]); err != nil {
			return err
		}
		// Raw and full runs alternate batch by batch so both see the same
		// machine load (the machine is shared).
		a := &pipeline{clf: clf, w: 224, h: 224}
		raw[b], full[b], err = timePair(len(inputs), b, rounds,
			func(lo, hi int) error {
				_, err := clf.RunBatch(ctx, inputs[lo:hi])
				return err
			},
			func(lo, hi int) error { return a.classify(ctx, pixels[lo:hi]) })
		if err != nil {
			return err
		}
		_ = clf.Close()
	}

	fmt.Println()
	fmt.Printf("%-6s | %-21s | %-30s | %-21s | %s\n", "batch", "ORT session (raw)", "Muster path (pre+batch+post)", "nsfwjs tfjs-cpu", "Muster/nsfwjs")
	fmt.Printf("%-6s | %9s %11s | %9s %11s %8s | %9s %11s | %s\n", "", "img/s", "p50 batch", "img/s", "p50 batch", "overhead", "img/s", "p50 batch", "speed-up")
	for _, b := range batches {
		r, f := raw[b], full[b]
		over := (r.rate()/f.rate() - 1) * 100
		line := fmt.Sprintf("%-6d | %9.1f %9.1fms | %9.1f %9.1fms %7.1f%% |", b, r.rate(), ms(r.p50), f.rate(), ms(f.p50), over)
		if n, ok := nodeRuns[b]; ok {
			line += fmt.Sprintf(" %9.2f %9.1fms | %7.1f×", n.rate(), ms(n.p50), f.rate()/n.rate())
		} else {
			line += fmt.Sprintf(" %9s %11s | %s", "-", "-", "-")
		}
		fmt.Println(line)
	}
	fmt.Println("\noverhead = Muster path time over raw session time for the same images (target ≤ 15%).")
	fmt.Println("Muster path: decoded pixels → nsfwjs-exact preprocessing → batcher → one session run per batch → probabilities.")

	// Whole-design cost with tiling, for the record.
	a, err := nsfw.New(env.Runtime, nsfw.Config{ModelsDir: env.Install.ModelsDir, Session: models.SessionConfig{Sessions: 1, IntraOpThreads: threads}})
	if err != nil {
		return err
	}
	defer a.Close()
	big := printFile(4500, 5400)
	start := time.Now()
	res, err := a.Analyze(ctx, &analyzers.Design{ID: "print", Image: &imaging.Image{MediaType: imaging.MediaPNG, NRGBA: big, Orientation: 1}})
	if err != nil {
		return err
	}
	fmt.Printf("\nwhole 4500×5400 print file with tiling: %d tiles + whole image in %v\n", len(res.Data.(nsfw.Result).Tiles), time.Since(start).Round(time.Millisecond))
	return nil
}

// printFile is a large opaque gradient, the size of a 15×18 in print at 300 dpi.
func printFile(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = uint8(x*255/w), uint8(y*255/h), 128, 255
		}
	}
	return img
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pipeline is Muster's classification path without the tiling: each image
// is preprocessed from its decoded pixels by its own goroutine and sent to
// the batcher, which runs them as one batch.
type pipeline struct {
	clf  *models.Classifier
	w, h int
}

func (p *pipeline) classify(ctx context.Context, px []preprocess.Pixels) error {
	var wg sync.WaitGroup
	errs := make([]error, len(px))
	for i := range px {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in := make([]float32, p.w*p.h*3)
			if err := preprocess.ResizeBilinear(in, px[i], image.Rect(0, 0, px[i].Width, px[i].Height), p.w, p.h, true); err != nil {
				errs[i] = err
				return
			}
			out, err := p.clf.Classify(ctx, in)
			if err != nil {
				errs[i] = err
				return
			}
			labels := p.clf.Manifest().Labels
			probs := make(map[string]float64, len(labels))
			for k, l := range labels {
				probs[l] = float64(out[0][k])
			}
			_ = probs
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// timePair times f and g on the same batches, alternating between them.
func timePair(n, b, rounds int, f, g func(lo, hi int) error) (result, result, error) {
	var lat [2][]time.Duration
	var total [2]time.Duration
	images := 0
	for r := 0; r < rounds; r++ {
		for lo := 0; lo+b <= n; lo += b {
			for i, fn := range []func(lo, hi int) error{f, g} {
				t := time.Now()
				if err := fn(lo, lo+b); err != nil {
					return result{}, result{}, err
				}
				d := time.Since(t)
				lat[i] = append(lat[i], d)
				total[i] += d
			}
			images += b
		}
	}
	var out [2]result
	for i := range out {
		sort.Slice(lat[i], func(a, c int) bool { return lat[i][a] < lat[i][c] })
		out[i] = result{images: images, seconds: total[i].Seconds(), p50: lat[i][(len(lat[i])-1)/2]}
	}
	return out[0], out[1], nil
}

func runNode(ctx context.Context, root string, pixels []preprocess.Pixels, cases []testimages.Case, batches []int) (map[int]result, error) {
	nodeDir := nodeenv.DefaultDir(root)
	if _, err := nodeenv.Ensure(ctx, nodeDir); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "muster-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	type c struct {
		Name   string `json:"name"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
		RGB    string `json:"rgb"`
	}
	var list []c
	for i, px := range pixels {
		f := fmt.Sprintf("%02d.rgb", i)
		if err := os.WriteFile(filepath.Join(work, f), px.RGB(), 0o644); err != nil {
			return nil, err
		}
		list = append(list, c{Name: cases[i].Name, Width: px.Width, Height: px.Height, RGB: f})
	}
	b, _ := json.Marshal(list)
	if err := os.WriteFile(filepath.Join(work, "cases.json"), b, 0o644); err != nil {
		return nil, err
	}
	var sizes []string
	for _, b := range batches {
		sizes = append(sizes, fmt.Sprint(b))
	}
	fmt.Fprintf(os.Stderr, "running nsfwjs on tfjs-cpu over %d images per batch size (about 2 s per image)…\n", len(pixels))
	cmd := nodeenv.Command(ctx, nodeDir, nodeenv.Script(root, "bench.cjs"), work, strings.Join(sizes, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var rep struct {
		Backend string `json:"backend"`
		Runs    []struct {
			Batch   int     `json:"batch"`
			Images  int     `json:"images"`
			Seconds float64 `json:"seconds"`
			P50     float64 `json:"p50_ms"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("parse node output: %w", err)
	}
	if rep.Backend != "cpu" {
		return nil, fmt.Errorf("node ran on backend %q, want cpu", rep.Backend)
	}
	res := map[int]result{}
	for _, r := range rep.Runs {
		res[r.Batch] = result{images: r.Images, seconds: r.Seconds, p50: time.Duration(r.P50 * float64(time.Millisecond))}
	}
	return res, nil
}
