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

	"github.com/muster-dev/muster/internal/bank/hamming"
	"github.com/muster-dev/muster/internal/bank/match"
)

func main() {
	sizes := flag.String("sizes", "1000,100000,1000000", "index sizes")
	radius := flag.Int("radius", 0, "Hamming radius (0: the matcher's default)")
	queries := flag.Int("queries", 1000, "queries per size")
	flag.Parse()
	if *radius == 0 {
		*radius = match.DefaultRadius
	}
	runtime.GOMAXPROCS(1)
	fmt.Printf("bench-bank: 64-bit codes, radius %d, %d queries per size (half near a stored code), one core\n", *radius, *queries)
	fmt.Printf("%9s  %12s %12s  %12s %12s  %8s  %10s %8s\n", "entries", "mih p50", "mih p99", "linear p50", "linear p99", "speed-up", "mem/entry", "hits/q")
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			slog.Error("bad size", "size", s)
			os.Exit(2)
		}
		bench(n, *radius, *queries)
	}
}

func bench(n, radius, nq int) {
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
	runtime.GC()
	runtime.ReadMemStats(&after)
	mem := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	var lin hamming.Linear
	for i, c := range codes {
		lin.Add(uint32(i), c)
	}
	qs := make([]uint64, nq)
	for i := range qs {
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
	var tm, tl []time.Duration
	var a, b []hamming.Hit
	hits := 0
	for _, q := range qs {
		t0 := time.Now()
		a = ix.Search(a[:0], q, radius)
		tm = append(tm, time.Since(t0))
		t1 := time.Now()
		b = lin.Search(b[:0], q, radius)
		tl = append(tl, time.Since(t1))
		if !slices.Equal(a, b) {
			fmt.Printf("MISMATCH at %d entries: index %d hits, linear %d\n", n, len(a), len(b))
			os.Exit(1)
		}
		hits += len(a)
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
