package benigngen

import (
	"math/rand/v2"
	"testing"
)

func TestMaxFilter(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 30, 101} {
		for _, r := range []int{0, 1, 3, 12} {
			in := make([]uint8, n)
			for i := range in {
				in[i] = uint8(rng.IntN(256))
			}
			out := make([]uint8, n)
			maxFilter(in, out, r)
			for i := range in {
				want := uint8(0)
				for k := max(0, i-r); k <= min(n-1, i+r); k++ {
					want = max(want, in[k])
				}
				if out[i] != want {
					t.Fatalf("n=%d r=%d i=%d: %d, want %d", n, r, i, out[i], want)
				}
			}
		}
	}
}
