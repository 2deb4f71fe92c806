package textmatch_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/muster-dev/muster/bank/phrases"
	"github.com/muster-dev/muster/bank/textmatch"
	"github.com/muster-dev/muster/bank/wordmarks"
)

// repoCache is MUSTER_CACHE_DIR or var/cache at the repository root.
func repoCache() (string, error) {
	if d := os.Getenv("MUSTER_CACHE_DIR"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "var", "cache"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// realEntries is the default banks: the simple-icons word marks (from npm)
// and the phrase bank.
var realEntries = sync.OnceValues(func() ([]textmatch.Entry, error) {
	cache, err := repoCache()
	if err != nil {
		return nil, err
	}
	set, err := wordmarks.Load(context.Background(), cache)
	if err != nil {
		return nil, err
	}
	return append(set.Entries("simple-icons"), phrases.Entries()...), nil
})

// setupReal compiles the default banks with the real word list.
func setupReal(t testing.TB) *textmatch.Matcher {
	t.Helper()
	if testing.Short() {
		t.Skip("fetches simple-icons from the npm registry")
	}
	entries, err := realEntries()
	if err != nil {
		t.Fatal(err)
	}
	m, err := textmatch.Compile(entries, textmatch.Config{Words: loadWords(t)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.ReplaceAll(l, `\n`, "\n"))
		}
	}
	return out
}

// TestOrdinarySlogansNotBlocked: ~200 ordinary t-shirt slogans against the
// real banks produce no block-grade match (review-grade matches of generic
// marks are allowed and logged).
func TestOrdinarySlogansNotBlocked(t *testing.T) {
	t.Parallel()
	m := setupReal(t)
	slogans := readLines(t, "ordinary_slogans.txt")
	if len(slogans) < 200 {
		t.Fatalf("%d slogans, want ≥ 200", len(slogans))
	}
	review := 0
	for _, s := range slogans {
		for _, g := range m.Match(s) {
			if g.BlockGrade() {
				t.Errorf("%q: block-grade %s %s/%s %q (%s, generic %v, standalone %v)", s, g.Kind, g.Bank, g.EntryID, g.Text, g.Method, g.Generic, g.Standalone)
				continue
			}
			review++
			t.Logf("review: %q: %s/%s %q (%s, generic %v)", s, g.Bank, g.EntryID, g.Text, g.Method, g.Generic)
		}
	}
	t.Logf("%d slogans, %d review-grade matches, terms compiled %d, skipped %d", len(slogans), review, m.Terms(), len(m.Skipped()))
}

// TestRealBankAdversarial: evasions of real marks are still found.
func TestRealBankAdversarial(t *testing.T) {
	t.Parallel()
	m := setupReal(t)
	tests := []struct{ text, id string }{
		{"N.I.K.E running club", "nike"},
		{"NlKE air", "nike"},
		{"N1KE", "nike"},
		{"АDIDAS originals", "adidas"},
		{"POKEMON trainer", "pokemon"},
		{"Nintendo Switch fan", "nintendoswitch"},
		{"Coca Cola classic", "cocacola"},
		{"rnastercard", "mastercard"},
		{"S1EG HE1L", "sieg-heil"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			for _, g := range m.Match(tt.text) {
				if g.EntryID == tt.id {
					return
				}
			}
			t.Errorf("Match(%q) lacks %s: %+v", tt.text, tt.id, m.Match(tt.text))
		})
	}
}

// listing is a typical 200-character listing text (title, tags, description).
const listing = "Retro Sunset Mountain Hiking T-Shirt for Men and Women - Vintage Outdoor Adventure Tee, Camping Gift for Dad, Nature Lover Shirt, Soft Cotton Crew Neck, Sizes S to 3XL, Machine Washable"

// BenchmarkMatchListing matches a 200-character listing text against the
// default banks (3,743 brands' word marks and the phrase bank).
func BenchmarkMatchListing(b *testing.B) {
	m := setupReal(b)
	b.ReportMetric(float64(m.Terms()), "terms")
	b.SetBytes(int64(len(listing)))
	b.ResetTimer()
	for b.Loop() {
		m.Match(listing)
	}
}

// BenchmarkCompile builds the matcher for the default banks.
func BenchmarkCompile(b *testing.B) {
	if testing.Short() {
		b.Skip("fetches simple-icons from the npm registry")
	}
	entries, err := realEntries()
	if err != nil {
		b.Fatal(err)
	}
	w := loadWords(b)
	for b.Loop() {
		if _, err := textmatch.Compile(entries, textmatch.Config{Words: w}); err != nil {
			b.Fatal(err)
		}
	}
}
