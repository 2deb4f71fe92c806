// Package hamming provides an exact in-memory Hamming-distance index over
// 64-bit codes using multi-index hashing (Norouzi, Punjani and Fleet, TPAMI
// 2014), with incremental add and remove, and a linear scan with the same
// contract for comparison.
//
// The 64-bit code is split into four 16-bit substrings. A code within
// Hamming distance r of a query has at least one substring within distance
// ⌊r/4⌋ of the query's substring (pigeonhole), so the index probes, in each of
// the four tables, every bucket within that substring radius and verifies the
// full distance of the codes it finds. Results are exact: the same set as a
// linear scan, in the same order (distance, then id). When the radius is so
// large that probing would cost more than scanning (⌊r/4⌋ ≥ 4 on small
// indexes), Search scans the codes instead.
//
// Memory per entry: 8 bytes for the code, 1 bit for liveness and, in each of
// the four tables, the 4-byte id and a copy of the 8-byte code (48 bytes),
// about 56 bytes plus slice growth slack (measured: see docs/bank.md); and a
// fixed 4×65,536 bucket headers (12 MiB) per index.
package hamming

import (
	"fmt"
	"math/bits"
	"slices"
)

const (
	substrings = 4
	subBits    = 16
	buckets    = 1 << subBits
)

// Hit is one code found by a query.
type Hit struct {
	ID       uint32
	Distance int
}

// Searcher is what both the index and the linear scan provide.
type Searcher interface {
	// Search appends to dst every entry within Hamming distance radius of q,
	// ordered by distance then id, and returns the extended slice.
	Search(dst []Hit, q uint64, radius int) []Hit
	// Len is the number of live entries.
	Len() int
}

// Index is a multi-index hashing index. It is not safe for concurrent
// mutation; callers guard it (reads may run concurrently with each other).
type Index struct {
	codes  []uint64 // by id
	alive  []uint64 // bitset by id
	n      int
	tables [substrings][]bucket
	// masks[s] lists the 16-bit flip masks of popcount exactly s.
	masks [][]uint16
}

// bucket holds the entries whose substring has one value: their ids and,
// alongside, their full codes, so verifying a candidate reads memory
// sequentially instead of jumping to the code table.
type bucket struct {
	ids   []uint32
	codes []uint64
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	ix := &Index{}
	for t := range ix.tables {
		ix.tables[t] = make([]bucket, buckets)
	}
	ix.masks = make([][]uint16, subBits+1)
	for v := 0; v < buckets; v++ {
		c := bits.OnesCount16(uint16(v))
		ix.masks[c] = append(ix.masks[c], uint16(v))
	}
	return ix
}

func sub(code uint64, t int) uint16 { return uint16(code >> (subBits * t)) }

// Len returns the number of live entries.
func (ix *Index) Len() int { return ix.n }

// Has reports whether id is live.
func (ix *Index) Has(id uint32) bool {
	w := int(id >> 6)
	return w < len(ix.alive) && ix.alive[w]&(1<<(id&63)) != 0
}

// Code returns the code stored under id and whether it is live.
func (ix *Index) Code(id uint32) (uint64, bool) {
	if !ix.Has(id) {
		return 0, false
	}
	return ix.codes[id], true
}

// Add stores code under id. Adding an id that is already live is an error.
func (ix *Index) Add(id uint32, code uint64) error {
	if ix.Has(id) {
		return fmt.Errorf("hamming: id %d already present", id)
	}
	if int(id) >= len(ix.codes) {
		n := max(int(id)+1, 2*len(ix.codes))
		codes := make([]uint64, n)
		copy(codes, ix.codes)
		ix.codes = codes
	}
	for int(id>>6) >= len(ix.alive) {
		ix.alive = append(ix.alive, 0)
	}
	ix.codes[id] = code
	ix.alive[id>>6] |= 1 << (id & 63)
	for t := 0; t < substrings; t++ {
		b := &ix.tables[t][sub(code, t)]
		b.ids = append(b.ids, id)
		b.codes = append(b.codes, code)
	}
	ix.n++
	return nil
}

// Remove deletes id; it reports whether id was present.
func (ix *Index) Remove(id uint32) bool {
	if !ix.Has(id) {
		return false
	}
	code := ix.codes[id]
	for t := 0; t < substrings; t++ {
		b := &ix.tables[t][sub(code, t)]
		for i, v := range b.ids {
			if v == id {
				last := len(b.ids) - 1
				b.ids[i], b.codes[i] = b.ids[last], b.codes[last]
				b.ids, b.codes = b.ids[:last], b.codes[:last]
				break
			}
		}
		if len(b.ids) == 0 {
			b.ids, b.codes = nil, nil
		}
	}
	ix.alive[id>>6] &^= 1 << (id & 63)
	ix.codes[id] = 0
	ix.n--
	return true
}

// Search implements Searcher.
func (ix *Index) Search(dst []Hit, q uint64, radius int) []Hit {
	if radius < 0 || ix.n == 0 {
		return dst
	}
	start := len(dst)
	s := radius / substrings
	if s > subBits {
		s = subBits
	}
	// Probing cost grows as C(16, ≤s); past the point where it exceeds a
	// scan of the codes, scan them instead (same results, checked by the
	// property test).
	probes := 0
	for d := 0; d <= s; d++ {
		probes += len(ix.masks[d])
	}
	// Measured costs (bench-bank): a probe costs about 67 sequential code
	// checks plus 13 per entry of its bucket (cache misses on the bucket).
	if substrings*probes*(67+13*ix.n/buckets) > ix.n {
		return ix.scan(dst, start, q, radius)
	}
	var qs [substrings]uint16
	for t := range qs {
		qs[t] = sub(q, t)
	}
	for t := 0; t < substrings; t++ {
		for d := 0; d <= s; d++ {
			for _, m := range ix.masks[d] {
				b := &ix.tables[t][qs[t]^m]
				for i, code := range b.codes {
					// Found in an earlier table already: skip (dedupe without a set).
					dup := false
					for u := 0; u < t; u++ {
						if bits.OnesCount16(sub(code, u)^qs[u]) <= s {
							dup = true
							break
						}
					}
					if dup {
						continue
					}
					if dist := bits.OnesCount64(code ^ q); dist <= radius {
						dst = append(dst, Hit{ID: b.ids[i], Distance: dist})
					}
				}
			}
		}
	}
	sortHits(dst[start:])
	return dst
}

func (ix *Index) scan(dst []Hit, start int, q uint64, radius int) []Hit {
	for w, word := range ix.alive {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &= word - 1
			id := uint32(w*64 + b)
			if d := bits.OnesCount64(ix.codes[id] ^ q); d <= radius {
				dst = append(dst, Hit{ID: id, Distance: d})
			}
		}
	}
	sortHits(dst[start:])
	return dst
}

func sortHits(h []Hit) {
	slices.SortFunc(h, func(a, b Hit) int {
		if a.Distance != b.Distance {
			return a.Distance - b.Distance
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}

// MemoryBytes estimates the heap the index holds: codes, liveness, bucket
// headers and bucket contents (capacity, not length).
func (ix *Index) MemoryBytes() int64 {
	n := int64(cap(ix.codes))*8 + int64(cap(ix.alive))*8
	for t := range ix.tables {
		n += int64(len(ix.tables[t])) * 48
		for _, b := range ix.tables[t] {
			n += int64(cap(b.ids))*4 + int64(cap(b.codes))*8
		}
	}
	return n
}

// Linear is a brute-force scan with the Searcher contract, the reference the
// index is tested and benchmarked against.
type Linear struct {
	ids   []uint32
	codes []uint64
}

// Add appends an entry (ids are not checked for duplicates).
func (l *Linear) Add(id uint32, code uint64) {
	l.ids = append(l.ids, id)
	l.codes = append(l.codes, code)
}

// Remove deletes the first entry with id; it reports whether one was found.
func (l *Linear) Remove(id uint32) bool {
	for i, v := range l.ids {
		if v == id {
			last := len(l.ids) - 1
			l.ids[i], l.codes[i] = l.ids[last], l.codes[last]
			l.ids, l.codes = l.ids[:last], l.codes[:last]
			return true
		}
	}
	return false
}

// Len implements Searcher.
func (l *Linear) Len() int { return len(l.ids) }

// Search implements Searcher.
func (l *Linear) Search(dst []Hit, q uint64, radius int) []Hit {
	start := len(dst)
	for i, c := range l.codes {
		if d := bits.OnesCount64(c ^ q); d <= radius {
			dst = append(dst, Hit{ID: l.ids[i], Distance: d})
		}
	}
	sortHits(dst[start:])
	return dst
}
