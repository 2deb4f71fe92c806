// Command nsfwserve runs the NSFW analyzer of the tree it is built in
// behind a pipe, so a benchmark can time an older build of the analyzer on
// the same designs, in the same run, as the current one.
//
// make nsfw-filing copies this file into a checkout of the commit at which
// issue 15 was filed (NSFW_FILING_COMMIT) and builds it there; bench-pipeline
// (-nsfw-filing BIN) starts it and sends it every design it sends the
// current analyzer. It therefore uses only API that exists both there and
// here: models.Setup, models.NewRuntime, nsfw.New, imaging.Decode and
// Analyzer.Analyze.
//
// Protocol, one design at a time: the client writes a line
// "LENGTH MEDIA-TYPE\n" followed by LENGTH bytes of the encoded design; the
// server decodes it (not timed), times Analyze alone — the span the
// pipeline's muster_analyzer_seconds measures — and answers with one JSON
// line {"seconds": …, "result": …, "error": …}. It prints "ready" on its
// first line once the model is open.
//
//	nsfwserve -models DIR -cache DIR -ort LIB -sessions 2 -threads 1
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/models"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nsfwserve:", err)
		os.Exit(1)
	}
}

// reply is one answer line.
type reply struct {
	Seconds float64           `json:"seconds"`
	Result  *analyzers.Result `json:"result,omitempty"`
	Error   string            `json:"error,omitempty"`
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("nsfwserve", flag.ContinueOnError)
	modelsDir := fs.String("models", models.DefaultModelsDir, "models directory (Setup converts into it on first use)")
	cacheDir := fs.String("cache", "", "npm package cache (default: npmfetch's)")
	ortLib := fs.String("ort", "", "ONNX Runtime library (default: MUSTER_ORT_LIB or fetched)")
	sessions := fs.Int("sessions", 2, "ONNX Runtime sessions (the worker's concurrency)")
	threads := fs.Int("threads", 0, "intra-op threads per session (0: CPUs / sessions)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	inst, err := models.Setup(ctx, models.SetupConfig{ModelsDir: *modelsDir, CacheDir: *cacheDir, ORTLib: *ortLib})
	if err != nil {
		return err
	}
	rt := models.NewRuntime()
	if err := rt.Init(inst.ORTLib); err != nil {
		return err
	}
	a, err := nsfw.New(rt, nsfw.Config{ModelsDir: inst.ModelsDir,
		Session: models.SessionConfig{Sessions: *sessions, IntraOpThreads: *threads}})
	if err != nil {
		return err
	}
	defer a.Close()
	in := bufio.NewReaderSize(stdin, 1<<20)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	fmt.Fprintln(out, "ready", a.Version())
	if err := out.Flush(); err != nil {
		return err
	}
	for {
		var n int
		var mediaType string
		if _, err := fmt.Fscanf(in, "%d %s\n", &n, &mediaType); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("request header: %w", err)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(in, data); err != nil {
			return fmt.Errorf("request body: %w", err)
		}
		var r reply
		im, err := imaging.Decode(data, mediaType, imaging.Limits{})
		if err != nil {
			r.Error = err.Error()
		} else {
			t := time.Now()
			res, err := a.Analyze(ctx, &analyzers.Design{ID: "bench", Image: im})
			r.Seconds = time.Since(t).Seconds()
			if err != nil {
				r.Error = err.Error()
			} else {
				r.Result = &res
			}
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}
