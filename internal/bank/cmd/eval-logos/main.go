// Command eval-logos generates the labelled logo set of issue 3 and measures
// the bank matcher on it (make eval-logos).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/muster-dev/muster/internal/bank/evallogos"
	"github.com/muster-dev/muster/internal/bank/iconify"
	"github.com/muster-dev/muster/internal/bank/match"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/npmfetch"
)

func main() {
	if err := run(); err != nil {
		slog.Error("eval-logos", "err", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 150, "designs with a logo (and as many without)")
	seed := flag.Uint64("seed", 1, "seed")
	procs := flag.Int("procs", 1, "GOMAXPROCS (timing is per core at 1)")
	verbose := flag.Bool("v", false, "list misses and false flags")
	jsonOut := flag.String("json", "", "also write the report as JSON to this file")
	limit := flag.Int("bank-limit", 0, "use only the first N bank entries (debugging)")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	ctx := context.Background()
	// npmfetch runs npm in a temporary directory under the cache and passes
	// it as --pack-destination too, so the cache path must be absolute.
	cache, err := filepath.Abs(npmfetch.DefaultCacheDir(os.Getenv))
	if err != nil {
		return err
	}
	load := func(p npmfetch.Package) (*iconify.Set, error) {
		dir, err := npmfetch.Fetch(ctx, cache, p)
		if err != nil {
			return nil, err
		}
		return iconify.Load(dir)
	}
	brands, err := load(iconify.SimpleIcons)
	if err != nil {
		return err
	}
	games, err := load(iconify.GameIcons)
	if err != nil {
		return err
	}
	tabler, err := load(iconify.Tabler)
	if err != nil {
		return err
	}
	if *limit > 0 {
		brands.Icons = brands.Icons[:*limit]
	}
	m, err := match.New(match.Config{})
	if err != nil {
		return err
	}
	t0 := time.Now()
	for i, ic := range brands.Icons {
		img, err := iconify.Render(ic, 192, color.NRGBA{0, 0, 0, 255})
		if err != nil {
			fmt.Fprintln(os.Stderr, "skip", ic.Name, err)
			continue
		}
		if err := m.Add(ic.Name, match.MaskFromAlpha(img), 0); err != nil {
			fmt.Fprintln(os.Stderr, "skip", ic.Name, err)
		}
		if (i+1)%500 == 0 {
			fmt.Fprintf(os.Stderr, "bank: %d/%d prepared (%s)\n", i+1, len(brands.Icons), time.Since(t0).Round(time.Millisecond))
		}
	}
	fmt.Fprintf(os.Stderr, "bank: %d references, %d hashes in %s\n", m.Len(), m.Variants(), time.Since(t0).Round(time.Millisecond))
	g, err := evallogos.NewGenerator(evallogos.Config{Positives: *n, Seed: *seed}, brands, games, tabler)
	if err != nil {
		return err
	}
	detect := func(ctx context.Context, img *imaging.Image) (evallogos.Detection, error) {
		ms, _, err := m.Find(ctx, img.NRGBA)
		if err != nil {
			return evallogos.Detection{}, err
		}
		var d evallogos.Detection
		for _, x := range ms {
			d.EntryIDs = append(d.EntryIDs, x.Key)
		}
		d.Flagged = len(ms) > 0
		return d, nil
	}
	rep, err := evallogos.Run(ctx, g, detect, os.Stderr)
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	if *verbose {
		for _, s := range rep.Misses {
			fmt.Println("miss:", s)
		}
		for _, s := range rep.FalseFlags {
			fmt.Println("false flag:", s)
		}
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}
