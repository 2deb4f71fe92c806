package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/mustertype"
)

// selfTimed is an analyzer that reports its own Analyze time (the
// filing-time analyzer runs in another process; the pipe and its decode
// are not the analyzer's work).
type selfTimed interface {
	analyzeTimed(ctx context.Context, d *analyzers.Design) (analyzers.Result, time.Duration, error)
}

// filingAnalyzer is the NSFW analyzer of the commit issue 15 was filed at,
// run by eval/nsfwserve built from that commit (make nsfw-filing), fed
// the upload bytes of each design (looked up by the design's SHA-256). One
// design at a time: the process owns its own sessions, sized like the
// pipeline's.
type filingAnalyzer struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Reader
	version string

	mu    sync.Mutex // serialises requests and guards bySum and err
	bySum map[string]design
	err   error
}

// startFiling starts bin with its own models directory (its Setup converts
// the pinned nsfwjs model with that commit's converter on first use) and
// the current ONNX Runtime library, sessions sized as cfg sizes the
// pipeline's, and waits for it to be ready.
func startFiling(ctx context.Context, bin, modelsDir string, cfg config.Config) (*filingAnalyzer, error) {
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: cfg.ModelsDir, CacheDir: cfg.CacheDir, ORTLib: cfg.ORTLib})
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-models", modelsDir, "-cache", cfg.CacheDir, "-ort", inst.ORTLib,
		"-sessions", fmt.Sprint(cfg.Concurrency), "-threads", fmt.Sprint(cfg.OrtThreads))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &filingAnalyzer{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20), bySum: map[string]design{}}
	line, err := f.out.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		_ = f.Close()
		return nil, fmt.Errorf("%s did not start: %q %v", bin, line, err)
	}
	f.version = strings.TrimSpace(strings.TrimPrefix(line, "ready"))
	return f, nil
}

// add registers a design's bytes under their SHA-256, as the pipeline
// names the design.
func (f *filingAnalyzer) add(d design) {
	sum := sha256.Sum256(d.data)
	f.mu.Lock()
	f.bySum[hex.EncodeToString(sum[:])] = d
	f.mu.Unlock()
}

func (f *filingAnalyzer) Name() string    { return "nsfw" }
func (f *filingAnalyzer) Version() string { return f.version }

func (f *filingAnalyzer) Analyze(ctx context.Context, d *analyzers.Design) (analyzers.Result, error) {
	res, _, err := f.analyzeTimed(ctx, d)
	return res, err
}

// analyzeTimed sends the design's bytes and returns the other process's
// result and its time inside Analyze.
func (f *filingAnalyzer) analyzeTimed(_ context.Context, d *analyzers.Design) (analyzers.Result, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return analyzers.Result{}, 0, f.err
	}
	res, el, err := f.roundTrip(d)
	if err != nil {
		f.err = err
	}
	return res, el, err
}

func (f *filingAnalyzer) roundTrip(d *analyzers.Design) (analyzers.Result, time.Duration, error) {
	dd, ok := f.bySum[d.SHA256]
	if !ok {
		return analyzers.Result{}, 0, fmt.Errorf("design %s is not one of the bench's", d.SHA256)
	}
	if _, err := fmt.Fprintf(f.in, "%d %s\n", len(dd.data), dd.ct); err != nil {
		return analyzers.Result{}, 0, err
	}
	if _, err := f.in.Write(dd.data); err != nil {
		return analyzers.Result{}, 0, err
	}
	line, err := f.out.ReadBytes('\n')
	if err != nil {
		return analyzers.Result{}, 0, fmt.Errorf("reading its answer: %w", err)
	}
	var r struct {
		Seconds float64 `json:"seconds"`
		Result  *struct {
			Data     mustertype.NSFWResult
			Findings []mustertype.Finding
			Versions map[string]string
		} `json:"result"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return analyzers.Result{}, 0, fmt.Errorf("its answer: %w", err)
	}
	if r.Error != "" || r.Result == nil {
		return analyzers.Result{}, 0, fmt.Errorf("analyze: %s", r.Error)
	}
	el := time.Duration(r.Seconds * float64(time.Second))
	return analyzers.Result{Data: r.Result.Data, Findings: r.Result.Findings, Versions: r.Result.Versions}, el, nil
}

// failed is the first error of the run, if any.
func (f *filingAnalyzer) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Close ends the process (closing its input ends its loop) and waits for it.
func (f *filingAnalyzer) Close() error {
	err := f.in.Close()
	return errors.Join(err, f.cmd.Wait())
}
