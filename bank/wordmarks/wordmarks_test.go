package wordmarks_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/muster-dev/muster/bank/wordmarks"
)

// cacheDir is MUSTER_CACHE_DIR, or var/cache at the repository root (shared
// with the other packages' fetches).
func cacheDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("MUSTER_CACHE_DIR"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "var", "cache")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

var loaded = sync.OnceValues(func() (*wordmarks.Set, error) {
	return wordmarks.Load(context.Background(), os.Getenv("WORDMARKS_CACHE"))
})

// setup loads the real word marks once per test binary.
func setup(t testing.TB) *wordmarks.Set {
	t.Helper()
	if testing.Short() {
		t.Skip("fetches simple-icons releases from the npm registry")
	}
	t.Setenv("WORDMARKS_CACHE", cacheDir(t)) // read by the first caller only
	s, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Not parallel: setup uses t.Setenv.
func TestLoadCoversTheBank(t *testing.T) {
	s := setup(t)
	if len(s.Missing) != 0 {
		t.Errorf("%d bank slugs without word marks: %v", len(s.Missing), s.Missing)
	}
	if len(s.Brands) != 3743 {
		t.Errorf("%d brands, want the bank's 3,743", len(s.Brands))
	}
	per := map[string]int{}
	for _, b := range s.Brands {
		per[b.Release]++
		if len(b.Marks) == 0 || b.Marks[0] != b.Title {
			t.Errorf("%s: marks %q do not start with the title %q", b.Slug, b.Marks, b.Title)
		}
	}
	t.Logf("brands per release: %v", per)
	m := s.Map()
	tests := []struct {
		slug, release string
		marks         []string
	}{
		{"nike", "16.37.0", []string{"Nike"}},
		{"nintendo", "13.21.0", []string{"Nintendo"}},
		{"pokemon", "13.21.0", []string{"Pokémon"}},
		{"microsoft", "", []string{"Microsoft"}},
		{"dotenv", "16.37.0", []string{".ENV", "Dotenv"}},
		{"hive-blockchain", "", []string{"Hive"}},
		{"cocacola", "", []string{"Coca-Cola"}},
	}
	for _, tt := range tests {
		got, ok := m[tt.slug]
		if !ok {
			t.Errorf("%s: no word marks", tt.slug)
			continue
		}
		for _, w := range tt.marks {
			if !slices.Contains(got, w) {
				t.Errorf("%s: marks %q lack %q", tt.slug, got, w)
			}
		}
		if tt.release != "" {
			i := slices.IndexFunc(s.Brands, func(b wordmarks.Brand) bool { return b.Slug == tt.slug })
			if s.Brands[i].Release != tt.release {
				t.Errorf("%s: from %s, want %s", tt.slug, s.Brands[i].Release, tt.release)
			}
		}
	}
	if es := s.Entries("simple-icons"); len(es) != len(s.Brands) || es[0].Bank != "simple-icons" || len(es[0].Terms) == 0 {
		t.Errorf("Entries: %d, first %+v", len(es), es[0])
	}
}

func TestTitleToSlug(t *testing.T) {
	t.Parallel()
	tests := []struct{ title, slug string }{
		{"Nike", "nike"},
		{"Pokémon", "pokemon"},
		{".ENV", "dotenv"},
		{"C++", "cplusplus"},
		{"AT&T", "atandt"},
		{"Coca-Cola", "cocacola"},
		{"Ørsted", "orsted"},
		{"Straßenbahn", "strassenbahn"},
		{"Warner Bros.", "warnerbrosdot"},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			t.Parallel()
			if got := wordmarks.TitleToSlug(tt.title); got != tt.slug {
				t.Errorf("TitleToSlug(%q) = %q, want %q", tt.title, got, tt.slug)
			}
		})
	}
}
