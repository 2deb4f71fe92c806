package textmatch

import (
	"math/rand/v2"
	"testing"
)

// TestFuzzyIndexComplete compares the deletion-neighbourhood index with a
// brute-force scan: every pattern within its budget is found, and nothing else.
func TestFuzzyIndexComplete(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) []rune {
		r := make([]rune, n)
		for i := range r {
			r[i] = 'a' + rune(rng.IntN(4)) // a small alphabet makes near misses common
		}
		return r
	}
	f := newFuzzyIndex()
	for range 300 {
		n := 3 + rng.IntN(10)
		f.add(word(n), 1+rng.IntN(2))
	}
	f.seal()
	var h hasher
	seen := map[int32]bool{}
	for q := range 2000 {
		s := word(1 + rng.IntN(13))
		if q%2 == 0 { // an edited copy of a pattern
			p := f.patterns[rng.IntN(len(f.patterns))]
			s = append([]rune(nil), p...)
			switch i := rng.IntN(len(s)); rng.IntN(3) {
			case 0:
				s[i] = 'e'
			case 1:
				s = append(s[:i], s[i+1:]...)
			case 2:
				s = append(s[:i], append([]rune{'b'}, s[i:]...)...)
			}
		}
		got := map[int32]int{}
		f.lookup(s, 2, &h, seen, func(id int32, d int) { got[id] = d })
		for id, p := range f.patterns {
			d, ok := boundedOSA(s, p, f.budget[id])
			gd, found := got[int32(id)]
			if ok != found || ok && d != gd {
				t.Fatalf("query %q pattern %q budget %d: brute (%d, %v), index (%d, %v)", string(s), string(p), f.budget[id], d, ok, gd, found)
			}
		}
	}
}

func TestBoundedOSA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		k    int
		d    int
		ok   bool
	}{
		{"nike", "nike", 0, 0, true},
		{"nike", "nkie", 1, 1, true},
		{"adidas", "adidass", 1, 1, true},
		{"mastercard", "mastrecrad", 2, 2, true},
		{"mastercard", "mastrecrad", 1, 0, false},
		{"abc", "xyz", 2, 0, false},
	}
	for _, tt := range tests {
		d, ok := boundedOSA([]rune(tt.a), []rune(tt.b), tt.k)
		if ok != tt.ok || ok && d != tt.d {
			t.Errorf("boundedOSA(%q, %q, %d) = %d %v, want %d %v", tt.a, tt.b, tt.k, d, ok, tt.d, tt.ok)
		}
	}
}
