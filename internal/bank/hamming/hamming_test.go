package hamming

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// near returns code with k random distinct bits flipped.
func near(r *rand.Rand, code uint64, k int) uint64 {
	for _, b := range r.Perm(64)[:k] {
		code ^= 1 << b
	}
	return code
}

// TestIndexMatchesLinearScan is the property test: after random adds and
// removes, every query at every radius returns exactly what a brute-force scan
// returns, in the same order.
func TestIndexMatchesLinearScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries int
		centres int // codes cluster around this many centres (real hashes cluster)
		seed    uint64
	}{
		{"uniform", 5000, 0, 1},
		{"clustered", 5000, 20, 2},
		{"tiny", 30, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(tc.seed, 99))
			ix := NewIndex()
			var lin Linear
			var centres []uint64
			for range tc.centres {
				centres = append(centres, r.Uint64())
			}
			gen := func() uint64 {
				if len(centres) == 0 {
					return r.Uint64()
				}
				return near(r, centres[r.IntN(len(centres))], r.IntN(20))
			}
			live := map[uint32]bool{}
			next := uint32(0)
			for step := 0; step < tc.entries*3/2; step++ {
				if len(live) > 0 && r.IntN(4) == 0 { // remove a random live id
					for id := range live {
						if !ix.Remove(id) || !lin.Remove(id) {
							t.Fatalf("remove %d: not found", id)
						}
						delete(live, id)
						break
					}
					continue
				}
				c := gen()
				if err := ix.Add(next, c); err != nil {
					t.Fatal(err)
				}
				lin.Add(next, c)
				live[next] = true
				next++
			}
			if ix.Len() != lin.Len() {
				t.Fatalf("len %d, linear %d", ix.Len(), lin.Len())
			}
			for q := 0; q < 300; q++ {
				var query uint64
				if q%2 == 0 && len(lin.codes) > 0 {
					query = near(r, lin.codes[r.IntN(len(lin.codes))], r.IntN(12))
				} else {
					query = gen()
				}
				for _, radius := range []int{0, 1, 3, 4, 7, 8, 11, 12, 15, 20} {
					got := ix.Search(nil, query, radius)
					want := lin.Search(nil, query, radius)
					if !slices.Equal(got, want) {
						t.Fatalf("query %016x radius %d: index %d hits, linear %d hits\nindex %v\nlinear %v", query, radius, len(got), len(want), got, want)
					}
				}
			}
		})
	}
}

func TestIndexAddRemove(t *testing.T) {
	t.Parallel()
	ix := NewIndex()
	if err := ix.Add(7, 0xff); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(7, 0xff); err == nil {
		t.Fatal("adding a live id twice should fail")
	}
	if got := ix.Search(nil, 0xfe, 1); len(got) != 1 || got[0] != (Hit{ID: 7, Distance: 1}) {
		t.Fatalf("search = %v", got)
	}
	if !ix.Remove(7) || ix.Remove(7) {
		t.Fatal("remove should succeed once")
	}
	if got := ix.Search(nil, 0xff, 64); len(got) != 0 {
		t.Fatalf("search after remove = %v", got)
	}
	if err := ix.Add(7, 1); err != nil {
		t.Fatalf("re-add after remove: %v", err)
	}
}
