package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/models"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/workers"
)

// scanLine is one line of `muster scan` output.
type scanLine struct {
	File     string                     `json:"file"`
	Analyses map[string]json.RawMessage `json:"analyses,omitempty"`
	Findings []mustertype.Finding       `json:"findings"`
	Verdict  *mustertype.Decision       `json:"verdict,omitempty"`
	Error    *string                    `json:"error"`
}

func cmdScan(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	marketsFlag := fs.String("markets", "US", "comma-separated markets (ISO 3166-1 alpha-2 or EU)")
	product := fs.String("product", "tshirt", "product type")
	filesFrom := fs.String("files-from", "", "read paths from this file, one per line (- for standard input)")
	filesFromTemp := fs.Bool("files-from-temp", false, "remove the --files-from file once read (used when scan re-executes itself)")
	// Settings flags are accepted too; split them off first.
	var own, rest []string
	re := reorder(fs, args)
	for i := 0; i < len(re); i++ {
		a := re[i]
		if a == "--files-from-temp" || a == "-files-from-temp" {
			own = append(own, a)
			continue
		}
		if a == "--markets" || a == "-markets" || a == "--product" || a == "-product" || a == "--files-from" || a == "-files-from" {
			own = append(own, a)
			if i+1 < len(re) {
				own = append(own, re[i+1])
				i++
			}
			continue
		}
		rest = append(rest, a)
	}
	if err := fs.Parse(own); err != nil {
		return err
	}
	cfg, named, err := config.Parse("scan", rest, e.getenv, e.stderr)
	if err != nil {
		return err
	}
	stdin := e.in
	if stdin == nil {
		stdin = os.Stdin
	}
	files, err := scanInputs(named, *filesFrom, stdin)
	if *filesFromTemp && *filesFrom != "" {
		os.Remove(*filesFrom)
	}
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("usage: muster scan [--markets M] [--product P] [--files-from F|-] FILE|DIR|- ... (no image files given)")
	}
	if len(named) > 0 && models.CommandLineBytes() > models.MaxCommandLine && slices.Contains(cfg.Analyzers, "nsfw") {
		// ONNX Runtime cannot start under a command line this long (see
		// models.MaxCommandLine): run again with the paths in a file.
		settings := rest[:len(rest)-len(named)]
		return reexecWithList(files, append(append([]string{"scan"}, own...), settings...))
	}
	markets, err := catalog.ParseMarkets(*marketsFlag)
	if err != nil {
		return err
	}
	if _, ok := catalog.LookupProduct(*product); !ok {
		return fmt.Errorf("unknown product %q", *product)
	}
	log := cfg.Logger(e.stderr)
	s := &services{}
	defer s.Close()
	// The policy (and banks) live in PostgreSQL: MUSTER_DATABASE_URL or the
	// same local cluster as run.
	if err := openDB(ctx, cfg, log, true, s); err != nil {
		return err
	}
	if slices.Contains(cfg.Analyzers, "bank") || slices.Contains(cfg.Analyzers, "listing") {
		// The same default banks as run: a scan on a fresh data directory
		// must not allow what it could not look for.
		if err := app.SeedBanks(ctx, cfg, s.pool, nil, e.stderr); err != nil {
			return fmt.Errorf("seed banks: %w", err)
		}
	}
	as, closeAnalyzers, err := app.Analyzers(ctx, cfg, s.pool, nil, log)
	if err != nil {
		return err
	}
	defer closeAnalyzers()
	decider, err := buildDecider(ctx, cfg, log, s)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	failed := 0
	for _, f := range files {
		line := scanFile(ctx, f, markets, *product, cfg.Limits(), as, decider)
		if line.Error != nil {
			failed++
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be scanned", failed, len(files))
	}
	return nil
}

func scanFile(ctx context.Context, path string, markets []string, product string, lim imaging.Limits, as []analyzers.Analyzer, decider workers.Decider) scanLine {
	line := scanLine{File: path, Findings: []mustertype.Finding{}}
	fail := func(err error) scanLine {
		s := err.Error()
		line.Error = &s
		return line
	}
	st, err := os.Stat(path)
	if err != nil {
		return fail(err)
	}
	if st.Size() > lim.MaxBytes {
		return fail(fmt.Errorf("%s is %d bytes, the limit is %d", path, st.Size(), lim.MaxBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	img, err := imaging.Decode(data, "", lim)
	if err != nil {
		return fail(fmt.Errorf("decode %s: %w", path, err))
	}
	d := &analyzers.Design{ID: filepath.Base(path), Product: product, Markets: markets, Image: img}
	sc, err := app.Scan(ctx, as, decider, d)
	if err != nil {
		return fail(err)
	}
	line.Analyses, line.Findings = sc.Analyses, sc.Findings
	dec := sc.Decision
	line.Verdict = &dec
	return line
}

// imageExts are the file extensions scan picks up in a directory.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true}

// scanInputs expands scan's arguments into files: "-" reads paths from
// stdin one per line, list (a file, or "-") adds the paths it holds, and a
// directory, named either way, is walked for image files (recursively, in
// lexical order).
func scanInputs(args []string, list string, stdin io.Reader) ([]string, error) {
	var named []string
	readList := func(name string) error {
		var r io.Reader = stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return fmt.Errorf("--files-from: %w", err)
			}
			defer f.Close()
			r = f
		} else if stdin == nil {
			return errors.New("no standard input to read paths from")
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if p := strings.TrimSpace(sc.Text()); p != "" {
				named = append(named, p)
			}
		}
		return sc.Err()
	}
	if list != "" {
		if err := readList(list); err != nil {
			return nil, err
		}
	}
	for _, a := range args {
		if a == "-" {
			if err := readList("-"); err != nil {
				return nil, err
			}
			continue
		}
		named = append(named, a)
	}
	var out []string
	for _, a := range named {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a) // a missing file is reported on its own line
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(p))] {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", a, err)
		}
	}
	return out, nil
}

// reexecWithList replaces this process with scan reading its paths from a
// temporary file (removed by the new process), so the command line stays
// short.
func reexecWithList(files []string, args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "muster-scan-*.txt")
	if err != nil {
		return err
	}
	_, werr := f.WriteString(strings.Join(files, "\n") + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(f.Name())
		return werr
	}
	argv := append([]string{exe}, args...)
	argv = append(argv, "--files-from", f.Name(), "--files-from-temp")
	err = syscall.Exec(exe, argv, os.Environ())
	os.Remove(f.Name())
	return fmt.Errorf("re-executing scan with a file list: %w", err)
}
