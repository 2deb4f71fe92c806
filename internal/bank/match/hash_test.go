package match

import (
	"math/rand/v2"
	"testing"
)

func TestHashWithMarginsIsPerceptionHash(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		w, h := 10+r.IntN(200), 10+r.IntN(200)
		m := NewMask(w, h)
		for k := 0; k < 1+r.IntN(6); k++ {
			x0, y0 := r.IntN(w), r.IntN(h)
			x1, y1 := x0+r.IntN(w-x0)+1, y0+r.IntN(h-y0)+1
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					m.Pix[y*w+x] = 255
				}
			}
		}
		want, err := HashMask(m)
		if err != nil {
			t.Fatal(err)
		}
		got, order, err := hashWithMargins(m)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("mask %d: hashWithMargins %016x, PerceptionHash %016x", n, got, want)
		}
		seen := map[uint8]bool{}
		for _, b := range order {
			seen[b] = true
		}
		if len(seen) != 64 {
			t.Fatalf("order is not a permutation: %v", order)
		}
	}
}
