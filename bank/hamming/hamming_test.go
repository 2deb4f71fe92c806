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
// removes (through compactions), every query at every radius, with and
// without don't-care bits, returns exactly what a brute-force scan returns,
// in the same order.
func TestIndexMatchesLinearScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries int
		centres int // codes cluster around this many centres (real hashes cluster)
		seed    uint64
		compact bool // compact half-way as a loader would
	}{
		{"uniform", 5000, 0, 1, false},
		{"clustered", 5000, 20, 2, false},
		{"tiny", 30, 3, 3, false},
		{"compacted", 3000, 10, 4, true},
		{"through automatic compactions", 12000, 40, 5, false},
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
				if tc.compact && step == tc.entries*3/4 {
					ix.Compact()
				}
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
				// Don't-care bits as the matcher picks them (a few, anywhere),
				// and many in one substring.
				cares := []uint64{^uint64(0), ^near(r, 0, 5), ^near(r, 0, 9), ^uint64(0xf0f << 16)}
				for _, care := range cares {
					for _, radius := range []int{0, 1, 3, 4, 6, 7, 8, 11, 12, 15, 20} {
						got := ix.SearchMasked(nil, query, care, radius)
						want := lin.SearchMasked(nil, query, care, radius)
						if !slices.Equal(got, want) {
							t.Fatalf("query %016x care %016x radius %d: index %d hits, linear %d hits\nindex %v\nlinear %v", query, care, radius, len(got), len(want), got, want)
						}
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
	// Compacted, removed, re-added with another code: found once, by the new code.
	ix.Compact()
	if !ix.Remove(7) {
		t.Fatal("remove after compaction")
	}
	if err := ix.Add(7, 0xff00); err != nil {
		t.Fatal(err)
	}
	if got := ix.Search(nil, 1, 0); len(got) != 0 {
		t.Fatalf("old code still found: %v", got)
	}
	if got := ix.Search(nil, 0xff00, 0); len(got) != 1 || got[0].ID != 7 {
		t.Fatalf("new code: %v", got)
	}
}

func TestPlanProbesFewestBuckets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		care   uint64
		radius int
		want   [4]int
		probes int
	}{
		{"radius 7: one flip per table", ^uint64(0), 7, [4]int{1, 1, 1, 1}, 4 * 17},
		{"radius 6: one table exact", ^uint64(0), 6, [4]int{1, 1, 1, 0}, 3*17 + 1},
		{"radius 0: one bucket", ^uint64(0), 0, [4]int{0, -1, -1, -1}, 1},
		{"don't-care bits in table 0 move the work elsewhere", ^uint64(0xff), 3, [4]int{-1, 1, 0, 0}, 17 + 1 + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := planFor(tc.care, tc.radius)
			if p.radius != tc.want || p.probes != tc.probes {
				t.Fatalf("plan = %v (%d probes), want %v (%d)", p.radius, p.probes, tc.want, tc.probes)
			}
		})
	}
}

// TestIndexExtremeCodes covers the substring values at the ends of the
// offset tables (all zeros, all ones).
func TestIndexExtremeCodes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(8, 8))
	ix := NewIndex()
	var lin Linear
	for i := range 2000 {
		c := near(r, 0, r.IntN(4))
		if i%2 == 0 {
			c = ^c
		}
		_ = ix.Add(uint32(i), c)
		lin.Add(uint32(i), c)
	}
	ix.Compact()
	for _, q := range []uint64{0, ^uint64(0), 0xffff, 0xffff << 48} {
		for _, radius := range []int{0, 2, 5, 7} {
			if got, want := ix.Search(nil, q, radius), lin.Search(nil, q, radius); !slices.Equal(got, want) {
				t.Fatalf("query %016x radius %d: index %d hits, linear %d", q, radius, len(got), len(want))
			}
		}
	}
}
