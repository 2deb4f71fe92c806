package hamming

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSearch1M measures one radius-7 query against a million random
// codes, compacted, half of the queries near a stored code.
func BenchmarkSearch1M(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	ix := NewIndex()
	codes := make([]uint64, 1_000_000)
	for i := range codes {
		codes[i] = r.Uint64()
		_ = ix.Add(uint32(i), codes[i])
	}
	ix.Compact()
	qs := make([]uint64, 1<<16)
	cares := make([]uint64, len(qs))
	for i := range qs {
		cares[i] = ^near(r, 0, 5)
		if i%2 == 0 {
			qs[i] = near(r, codes[r.IntN(len(codes))], r.IntN(8))
		} else {
			qs[i] = r.Uint64()
		}
	}
	var dst []Hit
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = ix.SearchMasked(dst[:0], qs[i%len(qs)], cares[i%len(qs)], 7)
	}
}
