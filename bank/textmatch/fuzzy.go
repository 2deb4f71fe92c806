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
	patterns [][]rune
	budget   []int // edit budget per pattern
	minLen   int   // shortest pattern
	maxLen   int   // longest pattern
}

func newFuzzyIndex() *fuzzyIndex { return &fuzzyIndex{variants: map[uint64][]int32{}, minLen: 1 << 30} }

// add indexes p with edit budget d (d ≥ 1) and returns its id.
func (f *fuzzyIndex) add(p []rune, d int) int32 {
	id := int32(len(f.patterns))
	f.patterns = append(f.patterns, p)
	f.budget = append(f.budget, d)
	f.minLen = min(f.minLen, len(p))
	f.maxLen = max(f.maxLen, len(p))
	deletionVariants(p, d, func(h uint64) {
		ids := f.variants[h]
		if len(ids) > 0 && ids[len(ids)-1] == id {
			return // the same variant from another deletion
		}
		f.variants[h] = append(ids, id)
	})
	return id
}

// lookup calls found(id, distance) for every pattern within its budget of s,
// at most once per pattern. d is the largest budget to consider. seen is
// scratch, cleared by lookup.
func (f *fuzzyIndex) lookup(s []rune, d int, seen map[int32]bool, found func(id int32, dist int)) {
	clear(seen)
	deletionVariants(s, d, func(h uint64) {
		for _, id := range f.variants[h] {
			if _, done := seen[id]; done {
				continue
			}
			p := f.patterns[id]
			b := f.budget[id]
			dist, ok := boundedOSA(s, p, b)
			seen[id] = ok
			if ok {
				found(id, dist)
			}
		}
	})
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// deletionVariants calls emit with the hash of s and of every string made
// by deleting up to d runes of it (d ≤ 2), plus its length so that variants
// of different lengths rarely collide.
func deletionVariants(s []rune, d int, emit func(uint64)) {
	hash := func(skip1, skip2 int) uint64 {
		h := uint64(fnvOffset)
		for i, r := range s {
			if i == skip1 || i == skip2 {
				continue
			}
			h ^= uint64(uint32(r))
			h *= fnvPrime
		}
		return h
	}
	emit(hash(-1, -1))
	if d < 1 {
		return
	}
	for i := range s {
		if i > 0 && s[i] == s[i-1] {
			continue // deleting either of two equal neighbours gives the same string
		}
		emit(hash(i, -1))
	}
	if d < 2 {
		return
	}
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			emit(hash(i, j))
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
