// Command bench-bank measures the Hamming index (make bench-bank): query
// latency p50/p99 and memory at 1k, 100k and 1M entries, multi-index hashing
// against a linear scan in the same run, checking that both return the same
// results.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-dev/muster/bank/hamming"
	"github.com/muster-dev/muster/bank/match"
)

func main() {
	sizes := flag.String("sizes", "1000,100000,1000000", "index sizes")
	radius := flag.Int("radius", 0, "Hamming radius (0: the matcher's default)")
	queries := flag.Int("queries", 1000, "queries per size")
	dontCare := flag.Int("dontcare", -1, "bits each query ignores, at random positions (-1: the matcher's default, match.DefaultProbes)")
	flag.Parse()
	if *radius == 0 {
		*radius = match.DefaultRadius
	}
	if *dontCare < 0 {
		*dontCare = match.DefaultProbes
	}
	runtime.GOMAXPROCS(1)
	fmt.Printf("bench-bank: 64-bit codes, radius %d over all but %d bits (as the matcher looks up), %d queries per size (half near a stored code), one core\n", *radius, *dontCare, *queries)
	fmt.Printf("%9s  %12s %12s  %12s %12s  %8s  %10s %8s\n", "entries", "mih p50", "mih p99", "linear p50", "linear p99", "speed-up", "mem/entry", "hits/q")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			slog.Error("bad size", "size", s)
			os.Exit(2)
		}
		bench(n, *radius, *dontCare, *queries)
	}
}

func bench(n, radius, dontCare, nq int) {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := hamming.NewIndex()
	codes := make([]uint64, n)
	for i := range codes {
		codes[i] = r.Uint64()
		_ = ix.Add(uint32(i), codes[i])
	}
	ix.Compact() // as a matcher does after loading a bank
	runtime.GC()
	runtime.ReadMemStats(&after)
	mem := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	var lin hamming.Linear
	for i, c := range codes {
		lin.Add(uint32(i), c)
	}
	qs := make([]uint64, nq)
	cares := make([]uint64, nq)
	for i := range qs {
		cares[i] = ^uint64(0)
		for _, b := range r.Perm(64)[:dontCare] {
			cares[i] &^= 1 << b
		}
		if i%2 == 0 {
			c := codes[r.IntN(n)]
			for _, b := range r.Perm(64)[:r.IntN(radius+1)] {
				c ^= 1 << b
			}
			qs[i] = c
		} else {
			qs[i] = r.Uint64()
		}
	}
	// Each side answers every query back to back (as the matcher queries
	// hundreds of regions per design), then the results are compared.
	tm := make([]time.Duration, nq)
	tl := make([]time.Duration, nq)
	got := make([][]hamming.Hit, nq)
	for i, q := range qs {
		t0 := time.Now()
		got[i] = ix.SearchMasked(got[i], q, cares[i], radius)
		tm[i] = time.Since(t0)
	}
	var b []hamming.Hit
	hits := 0
	for i, q := range qs {
		t0 := time.Now()
		b = lin.SearchMasked(b[:0], q, cares[i], radius)
		tl[i] = time.Since(t0)
		if !slices.Equal(got[i], b) {
			fmt.Printf("MISMATCH at %d entries: index %d hits, linear %d\n", n, len(got[i]), len(b))
			os.Exit(1)
		}
		hits += len(b)
	}
	pm50, pm99 := pct(tm, 50), pct(tm, 99)
	pl50, pl99 := pct(tl, 50), pct(tl, 99)
	fmt.Printf("%9d  %12s %12s  %12s %12s  %7.1fx  %8.1f B %8.2f\n", n, pm50, pm99, pl50, pl99,
		float64(pl50)/float64(max(pm50, 1)), mem, float64(hits)/float64(nq))
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
