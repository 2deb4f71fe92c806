package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/cmd/muster/app"
	"github.com/muster-dev/muster/internal/catalog"
	"github.com/muster-dev/muster/internal/config"
	"github.com/muster-dev/muster/internal/imaging"
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
	// Settings flags are accepted too; split them off first.
	var own, rest []string
	re := reorder(fs, args)
	for i := 0; i < len(re); i++ {
		a := re[i]
		if a == "--markets" || a == "-markets" || a == "--product" || a == "-product" {
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
	cfg, files, err := config.Parse("scan", rest, e.getenv, e.stderr)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("usage: muster scan [--markets M] [--product P] FILE...")
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
