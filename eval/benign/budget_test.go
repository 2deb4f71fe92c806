package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/analyzers"
	"github.com/muster-dev/muster/analyzers/banks"
	"github.com/muster-dev/muster/analyzers/hashing"
	"github.com/muster-dev/muster/analyzers/nsfw"
	"github.com/muster-dev/muster/bank"
	"github.com/muster-dev/muster/bank/match"
	"github.com/muster-dev/muster/eval/benign/benigngen"
	"github.com/muster-dev/muster/internal/imaging"
	"github.com/muster-dev/muster/internal/modeltest"
	"github.com/muster-dev/muster/internal/pgtest"
	"github.com/muster-dev/muster/mustertype"
	"github.com/muster-dev/muster/policy"
	"github.com/muster-dev/muster/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The end-to-end false-flag budget (issue 15), enforced in make test.
const (
	// budgetSeed is the frozen CI set's seed: never used to tune anything.
	budgetSeed = 9001
	// budgetDesigns is how many harmless designs it holds.
	budgetDesigns = 40
	// budgetHeldShare is the largest share of harmless designs that may be
	// held (review or block) in any one market: 5 %, two of 40. The analyzer
	// holds about 2.5 % of such designs today (docs/nsfw.md: development
	// seed 3, and 1 of these 40), so the budget fails the build on a flood
	// (the old tiles hold 11 % of development and 20 % of test-seed designs),
	// not on one design more; the target
	// (0.5 %) needs a larger set than a test can afford (make eval-benign).
	budgetHeldShare = 0.05
	// budgetBlocked is how many harmless designs may be blocked in some
	// market: 1, the one SA/AE block measured on this set in session 4 (a
	// photo-texture tile, checked score 0.651). Before session 5 blocks
	// were only limited through the held share. The held share was not
	// tightened in session 5: the set could not be re-run to completion
	// under the shared machine's load (docs/nsfw.md), and the development
	// seeds still hold 5.5 % in SA/AE (whole-image scores).
	budgetBlocked = 1
)

// budgetSizes keep the frozen set fast: square merchant uploads and a
// print-file shape at a third of the 4500×5400 size (still tiled with the
// same grid), no 24-megapixel files (eval-benign has those).
var budgetSizes = []benigngen.Size{{W: 1200, H: 1200, Weight: 0.45}, {W: 1000, H: 1000, Weight: 0.15},
	{W: 1500, H: 1800, Weight: 0.25}, {W: 800, H: 800, Weight: 0.1}, {W: 500, H: 500, Weight: 0.05}}

// TestBenignBudget runs a small frozen set of harmless designs (generated
// deterministically from budgetSeed with the Go fonts and the pinned colour
// icon sets) through the scan path — the hash, NSFW and bank analyzers (the
// drawn symbol bank and every tenth simple-icons logo) and the default
// policy pack from PostgreSQL — and fails when more than the budget is held
// in any market, so an analyzer or rule change that floods review fails the
// build. It lists every held design with its cause.
func TestBenignBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs ONNX Runtime, the NSFW model and PostgreSQL")
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env, err := modeltest.Open(ctx)
	if err != nil {
		t.Fatalf("model environment: %v", err)
	}
	t.Cleanup(func() { _ = env.Runtime.Close() })
	cache := filepath.Join(env.Root, "var", "cache")
	if d := os.Getenv("MUSTER_CACHE_DIR"); d != "" {
		cache = d
	}
	nsfwA, err := nsfw.New(env.Runtime, nsfw.Config{ModelsDir: env.Install.ModelsDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nsfwA.Close() })

	pool := pgtest.New(t)
	bst := bank.NewStore(pool, nil)
	if _, err := bank.SeedSymbols(ctx, bst, match.Config{}, "test", nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := bank.ImportSimpleIcons(ctx, bst, bank.ImportOptions{CacheDir: cache, Actor: "test",
		Keep: func(string) bool { n++; return n%10 == 0 }}, nil); err != nil {
		t.Fatal(err)
	}
	set, err := bank.NewSet(bst, bank.SetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Load(ctx); err != nil {
		t.Fatal(err)
	}
	decider, err := policy.NewDecider(ctx, policy.NewStore(pool, store.New(pool), policy.Config{}), policy.DeciderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	setup := time.Since(start)

	src, err := benigngen.LoadSources(ctx, cache, benigngen.SourceOptions{NoNegativeSets: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := benigngen.NewGenerator(benigngen.Config{Seed: budgetSeed, Sizes: budgetSizes}, src)
	if err != nil {
		t.Fatal(err)
	}
	sc := benigngen.Scanner{Analyzers: []analyzers.Analyzer{hashing.Analyzer{}, nsfwA, banks.New(set, banks.Config{})},
		Decider: decider, Markets: benigngen.DefaultMarkets, Product: "tshirt", Limits: imaging.Limits{}}
	var results []benigngen.Result
	for i := range budgetDesigns {
		smp, err := g.Sample(i)
		if err != nil {
			t.Fatal(err)
		}
		r := sc.Scan(ctx, smp, "ci")
		if r.Err != "" {
			t.Fatalf("%s: %s", smp.Name, r.Err)
		}
		results = append(results, r)
	}
	var rep strings.Builder
	benigngen.Report(&rep, results, benigngen.DefaultMarkets)
	benigngen.Flagged(&rep, results)
	t.Logf("setup %s, %d designs in %s\n%s", setup.Round(time.Millisecond), len(results), (time.Since(start) - setup).Round(time.Millisecond), rep.String())
	for _, v := range overBudget(results, benigngen.DefaultMarkets) {
		t.Error(v + ": see the report above")
	}
	if t.Failed() {
		fmt.Fprintln(os.Stderr, "eval/benign: the false-flag budget is exceeded; run make eval-benign BENIGN_ARGS=-v for the full picture")
	}
}

// overBudget lists the budget's violations: a market holding more than
// budgetHeldShare of the designs, or any harmless design blocked beyond
// budgetBlocked.
func overBudget(results []benigngen.Result, markets []string) []string {
	var out []string
	allowed := int(budgetHeldShare * float64(len(results)))
	blocked := 0
	for _, r := range results {
		for _, m := range markets {
			if r.Outcomes[m] == mustertype.Block {
				blocked++
				break
			}
		}
	}
	for _, m := range markets {
		held := 0
		for _, r := range results {
			if r.Outcomes[m] != mustertype.Allow {
				held++
			}
		}
		if held > allowed {
			out = append(out, fmt.Sprintf("%s: %d of %d harmless designs held (budget %d, %.1f%%)", m, held, len(results), allowed, 100*budgetHeldShare))
		}
	}
	if blocked > budgetBlocked {
		out = append(out, fmt.Sprintf("%d of %d harmless designs blocked in some market (budget %d)", blocked, len(results), budgetBlocked))
	}
	return out
}

// TestBudgetCanFail: the budget check fails on a flood of holds in one
// market and on a single block, and passes within the budget (the check
// itself, without models).
func TestBudgetCanFail(t *testing.T) {
	t.Parallel()
	mk := func(n int, held map[int]string) []benigngen.Result {
		rs := make([]benigngen.Result, n)
		for i := range rs {
			rs[i].Outcomes = map[string]string{}
			for _, m := range benigngen.DefaultMarkets {
				rs[i].Outcomes[m] = mustertype.Allow
			}
			if d, ok := held[i]; ok {
				rs[i].Outcomes["SA"] = d
			}
		}
		return rs
	}
	within := map[int]string{}
	for i := 0; i < int(budgetHeldShare*budgetDesigns); i++ {
		within[i] = mustertype.Review
	}
	flood := map[int]string{}
	for i := 0; i <= int(budgetHeldShare*budgetDesigns); i++ {
		flood[i] = mustertype.Review
	}
	for _, tc := range []struct {
		name string
		held map[int]string
		fail bool
	}{
		{"none held", nil, false},
		{"at the budget", within, false},
		{"one over the budget", flood, true},
		{"one blocked", map[int]string{0: mustertype.Block}, budgetBlocked == 0},
	} {
		if got := len(overBudget(mk(budgetDesigns, tc.held), benigngen.DefaultMarkets)) > 0; got != tc.fail {
			t.Errorf("%s: over budget %v, want %v", tc.name, got, tc.fail)
		}
	}
}
