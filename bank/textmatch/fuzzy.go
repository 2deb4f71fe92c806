package textmatch

// fuzzyIndex finds the patterns within a bounded edit distance of a string
// without comparing it to every pattern: it stores the hash of every
// variant of every pattern with up to d runes deleted (d the pattern's
// budget), and a query looks up the variants of the string with up to as
// many deletions. Two strings within d edits (insertions, deletions,
// substitutions, adjacent transpositions) always share such a variant, so
// the lookup is complete; candidates are then verified with the real
// distance, which removes hash collisions and over-generation.
type fuzzyIndex struct {
	variants map[uint64][]int32 // variant hash → pattern ids
	bloom    []uint64           // one bit per variant hash: most query variants miss, and a bit test is cheaper than a map probe
	mask     uint64             // len(bloom)*64 - 1
	patterns [][]rune
	budget   []int // edit budget per pattern
	minLen   int   // shortest pattern
	maxLen   int   // longest pattern
}

func newFuzzyIndex() *fuzzyIndex { return &fuzzyIndex{variants: map[uint64][]int32{}, minLen: 1 << 30} }

// add indexes p with edit budget d (d ≥ 1) and returns its id. Call seal
// after the last add.
func (f *fuzzyIndex) add(p []rune, d int) int32 {
	id := int32(len(f.patterns))
	f.patterns = append(f.patterns, p)
	f.budget = append(f.budget, d)
	f.minLen = min(f.minLen, len(p))
	f.maxLen = max(f.maxLen, len(p))
	var h hasher
	h.reset(p)
	h.variants(d, func(v uint64) {
		ids := f.variants[v]
		if len(ids) > 0 && ids[len(ids)-1] == id {
			return // the same variant from another deletion
		}
		f.variants[v] = append(ids, id)
	})
	return id
}

// seal builds the bloom filter (16 bits per variant).
func (f *fuzzyIndex) seal() {
	n := uint64(64)
	for n < uint64(len(f.variants))*16 {
		n <<= 1
	}
	f.bloom = make([]uint64, n/64)
	f.mask = n - 1
	for v := range f.variants {
		b := v & f.mask
		f.bloom[b>>6] |= 1 << (b & 63)
	}
}

// lookup calls found(id, distance) for every pattern within its budget of s,
// at most once per pattern. d is the largest budget to consider; h and seen
// are scratch (seen is cleared by lookup).
func (f *fuzzyIndex) lookup(s []rune, d int, h *hasher, seen map[int32]bool, found func(id int32, dist int)) {
	clear(seen)
	h.reset(s)
	h.variants(d, func(v uint64) {
		if b := v & f.mask; f.bloom[b>>6]&(1<<(b&63)) == 0 {
			return
		}
		for _, id := range f.variants[v] {
			if _, done := seen[id]; done {
				continue
			}
			dist, ok := boundedOSA(s, f.patterns[id], f.budget[id])
			seen[id] = ok
			if ok {
				found(id, dist)
			}
		}
	})
}

// hasher hashes a string and its deletion variants in O(1) each, from
// polynomial prefix hashes (mod 2^64).
type hasher struct {
	s      []rune
	prefix []uint64 // prefix[i] = hash of s[:i]
	pow    []uint64 // pow[i] = hashBase^i
}

const hashBase = 0x100000001b3 // odd

func (h *hasher) reset(s []rune) {
	h.s = s
	h.prefix = append(h.prefix[:0], 0)
	if len(h.pow) == 0 {
		h.pow = append(h.pow, 1)
	}
	for len(h.pow) <= len(s) {
		h.pow = append(h.pow, h.pow[len(h.pow)-1]*hashBase)
	}
	for i, r := range s {
		h.prefix = append(h.prefix, h.prefix[i]*hashBase+uint64(uint32(r))+1)
	}
}

// sub is the hash of s[l:r].
func (h *hasher) sub(l, r int) uint64 { return h.prefix[r] - h.prefix[l]*h.pow[r-l] }

// mix spreads a polynomial hash over all 64 bits (splitmix64 finaliser),
// with the length mixed in.
func mix(x uint64, n int) uint64 {
	x ^= uint64(n) << 56
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// variants calls emit with the hash of s and of every string made by
// deleting up to d (≤ 2) of its runes.
func (h *hasher) variants(d int, emit func(uint64)) {
	s, n := h.s, len(h.s)
	emit(mix(h.prefix[n], n))
	if d < 1 {
		return
	}
	for i := range n {
		if i > 0 && s[i] == s[i-1] {
			continue // deleting either of two equal neighbours gives the same string
		}
		emit(mix(h.prefix[i]*h.pow[n-i-1]+h.sub(i+1, n), n-1))
	}
	if d < 2 || n < 2 {
		return
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := (h.prefix[i]*h.pow[j-i-1]+h.sub(i+1, j))*h.pow[n-j-1] + h.sub(j+1, n)
			emit(mix(v, n-2))
		}
	}
}

// boundedOSA returns the optimal-string-alignment distance (Levenshtein
// with adjacent transpositions) of a and b when it is at most k.
func boundedOSA(a, b []rune, k int) (int, bool) {
	if d := len(a) - len(b); d > k || -d > k {
		return 0, false
	}
	n, m := len(a), len(b)
	// Three rows suffice for OSA; small strings, so plain slices.
	prev2 := make([]int, m+1)
	prev := make([]int, m+1)
	cur := make([]int, m+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > k {
			return 0, false
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[m] > k {
		return 0, false
	}
	return prev[m], true
}
