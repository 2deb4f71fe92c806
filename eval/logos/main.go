// Command eval-logos generates the labelled logo set of issue 3 and measures
// the bank matcher on it (make eval-logos): the full simple-icons bank plus
// the drawn symbol bank, with the negative bank built from the calibration
// half of the distractor sets (the generator draws only from the other half).
package main

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/iconify"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/bank/symbols"
	"github.com/muster-dev/muster/eval/logos/evallogos"
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
	distances := flag.Bool("distances", false, "explain every logo design and print how far its best region's hash is, per number of ignored bits")
	dump := flag.String("dump", "", "with -explain, write the missed designs to this directory")
	explain := flag.Bool("explain", false, "with -v, explain each miss (match.Matcher.Explain)")
	jsonOut := flag.String("json", "", "also write the report as JSON to this file")
	noNeg := flag.Bool("no-negative", false, "run without the negative bank")
	radius := flag.Int("radius", 0, "Hamming radius (0: default)")
	probes := flag.Int("probes", 0, "least certain hash bits flipped per lookup (0: default, -1: none)")
	relief := flag.Float64("relief", 0, "threshold relief for distinctive references (0: default, -1: none)")
	threshold := flag.Float64("threshold", 0, "verification threshold (0: default)")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)
	ctx := context.Background()
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
	// Symbols are protected as in production (bank.Set protects symbol banks).
	cfg := match.Config{Radius: *radius, Probes: *probes, Relief: *relief, Threshold: *threshold, Protected: func(k string) bool { return strings.HasPrefix(k, "symbol:") }}
	m, err := match.New(cfg)
	if err != nil {
		return err
	}
	t0 := time.Now()
	// Prepared references are cached (rendering and hashing 3,743 logos
	// takes minutes on one core; workers load them from PostgreSQL).
	cacheFile := filepath.Join(cache, "eval-simple-icons-"+match.EncodingVersion+".gob")
	cached := map[string][]byte{}
	if f, err := os.Open(cacheFile); err == nil {
		_ = gob.NewDecoder(f).Decode(&cached)
		f.Close()
	}
	dirty := false
	bar := &bank.Progress{W: os.Stderr, Label: "bank simple-icons", Total: len(brands.Icons)}
	for _, ic := range brands.Icons {
		var p match.Prepared
		if b, ok := cached[ic.Name]; !ok || p.UnmarshalBinary(b) != nil {
			dirty = true
			img, err := iconify.Render(ic, bank.RenderSize, color.NRGBA{A: 255})
			if err != nil {
				return err
			}
			pp, err := m.Prepare(ic.Name, match.MaskFromAlpha(img), 0)
			if err != nil {
				return err
			}
			p = *pp
			cached[ic.Name], _ = p.MarshalBinary()
		}
		m.AddPrepared(&p)
		bar.Add(1)
	}
	if dirty { // write and rename, so that concurrent runs never read half a file
		if f, err := os.Create(cacheFile + ".tmp"); err == nil {
			err = gob.NewEncoder(f).Encode(cached)
			f.Close()
			if err == nil {
				_ = os.Rename(cacheFile+".tmp", cacheFile)
			}
		}
	}
	for _, s := range symbols.All() {
		if err := m.Add("symbol:"+s.ID, match.MaskFromAlpha(s.Draw(256)), 0); err != nil {
			return err
		}
	}
	if !*noNeg {
		neg, err := bank.LoadNegative(ctx, bank.NegativeOptions{CacheDir: cache, Match: cfg, Keep: func(prefix, name string) bool {
			return !bank.IsBrandIcon(name) && evallogos.IsCalibration(prefix, name)
		}}, os.Stderr)
		if err != nil {
			return err
		}
		m.SetNegative(neg)
		fmt.Fprintf(os.Stderr, "negative bank: %d shapes (calibration half)\n", neg.Len())
	}
	fmt.Fprintf(os.Stderr, "bank: %d references, %d hashes, ready in %s\n", m.Len(), m.Variants(), time.Since(t0).Round(time.Millisecond))
	g, err := evallogos.NewGenerator(evallogos.Config{Positives: *n, Seed: *seed}, brands, games, tabler)
	if err != nil {
		return err
	}
	var dists []int
	detect := func(ctx context.Context, img *imaging.Image) (evallogos.Detection, error) {
		ms, _, err := m.Find(ctx, img.NRGBA)
		if err != nil {
			return evallogos.Detection{}, err
		}
		var d evallogos.Detection
		for _, x := range ms {
			d.EntryIDs = append(d.EntryIDs, x.Key)
			dists = append(dists, x.Distance)
		}
		d.Flagged = len(ms) > 0
		return d, nil
	}
	rep, err := evallogos.Run(ctx, g, detect, os.Stderr)
	if err != nil {
		return err
	}
	fmt.Printf("eval-logos: seed %d, %d designs with a logo + %d brand-free, bank %d entries (%d simple-icons + %d symbols), radius %d, probes %d, threshold %.2f, relief %.2f\n",
		*seed, *n, *n, m.Len(), len(brands.Icons), len(symbols.All()), m.Config().Radius, m.Config().Probes, m.Config().Threshold, m.Config().Relief)
	rep.Print(os.Stdout)
	hist := map[int]int{}
	for _, d := range dists {
		hist[d]++
	}
	fmt.Printf("Hamming distance of reported matches: %v\n", hist)
	if *verbose {
		reasons := map[string]int{}
		for _, s := range rep.Misses {
			fmt.Println("miss:", s)
			if !*explain {
				continue
			}
			var i int
			if _, err := fmt.Sscanf(s, "#%d", &i); err != nil {
				continue
			}
			smp, err := g.Sample(i)
			if err != nil {
				return err
			}
			img, err := imaging.Decode(smp.Data, smp.Format, imaging.Limits{})
			if err != nil {
				return err
			}
			e, err := m.Explain(ctx, img.NRGBA, smp.Slug)
			if err != nil {
				return err
			}
			reasons[e.Reason]++
			if *dump != "" {
				ext := ".png"
				if smp.Format == "image/jpeg" {
					ext = ".jpg"
				}
				_ = os.MkdirAll(*dump, 0o755)
				_ = os.WriteFile(filepath.Join(*dump, fmt.Sprintf("%d-%s%s", i, smp.Slug, ext)), smp.Data, 0o644)
			}
			fmt.Println("   ", e)
		}
		if *explain {
			fmt.Printf("misses by reason: %v\n", reasons)
		}
		for _, s := range rep.FalseFlags {
			fmt.Println("false flag:", s)
		}
	}
	if *distances {
		// cover[k][d]: logo designs whose best verified region lies within
		// distance d of the entry with k bits ignored.
		var cover [9][65]int
		verified := 0
		for i := 0; i < g.Len(); i++ {
			smp, err := g.Sample(i)
			if err != nil {
				return err
			}
			if !smp.Positive {
				continue
			}
			img, err := imaging.Decode(smp.Data, smp.Format, imaging.Limits{})
			if err != nil {
				return err
			}
			e, err := m.Explain(ctx, img.NRGBA, smp.Slug)
			if err != nil {
				return err
			}
			if e.EdgeF < e.Threshold {
				continue
			}
			verified++
			for k, d := range e.MaskedDistance {
				cover[k][d]++
			}
		}
		fmt.Printf("logo designs with a region verifying at threshold: %d/%d; share within radius r with k unsure bits ignored:\n", verified, *n)
		fmt.Printf("%4s", "k\\r")
		for r := 0; r <= 14; r++ {
			fmt.Printf(" %5d", r)
		}
		fmt.Println()
		for k := range cover {
			fmt.Printf("%4d", k)
			sum := 0
			for r := 0; r <= 14; r++ {
				sum += cover[k][r]
				fmt.Printf(" %5.1f", 100*float64(sum)/float64(max(verified, 1)))
			}
			fmt.Println()
		}
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}
