// Package hamming provides an exact in-memory Hamming-distance index over
// 64-bit codes using multi-index hashing (Norouzi, Punjani and Fleet, TPAMI
// 2014), with incremental add and remove, masked queries (bits a query is
// unsure of count for nothing), and a linear scan with the same contract for
// comparison.
//
// The 64-bit code is split into four 16-bit substrings. By the generalised
// pigeonhole principle, a code within distance r of a query has, for any
// substring radii s₀…s₃ with Σ(sᵢ+1) > r, at least one substring i within
// distance sᵢ of the query's. The index probes, in each table, every bucket
// within that table's radius and verifies the full distance of the codes it
// finds; the radii are chosen per query to make the probes cheapest. Results
// are exact: the same set as a linear scan, in the same order (distance,
// then id). When probing would cost more than scanning, Search scans.
//
// Layout. Each table is compact (the codes sorted by their substring, with
// an offset array of 65,537 entries), so a probe reads one offset pair and
// one contiguous run of codes. Entries added since the last compaction live
// in a small delta indexed by hash maps; removed entries are skipped until
// the next compaction. Compaction runs when the delta or the dead entries
// exceed a sixteenth of the index.
//
// Memory per entry: 8 bytes for the code, 2 bits of flags and, in each of the
// four tables, the 4-byte id and a copy of the 8-byte code (48 bytes): about
// 56 bytes (measured in bench-bank: docs/bank.md), plus a fixed 1 MiB of
// offsets per index and the delta's maps between compactions.
package hamming

import (
	"fmt"
	"math/bits"
	"runtime"
	"slices"
)

const (
	substrings = 4
	subBits    = 16
	buckets    = 1 << subBits
	// minDelta is the delta size below which adds never compact.
	minDelta = 4096
)

// Hit is one code found by a query.
type Hit struct {
	ID uint32
	// Distance is the Hamming distance over the query's care bits.
	Distance int
}

// Searcher is what both the index and the linear scan provide.
type Searcher interface {
	// SearchMasked appends to dst every entry whose code differs from q in
	// at most radius of the bits set in care, ordered by that distance then
	// id, and returns the extended slice.
	SearchMasked(dst []Hit, q, care uint64, radius int) []Hit
	// Len is the number of live entries.
	Len() int
}

// Index is a multi-index hashing index. It is not safe for concurrent
// mutation; callers guard it (reads may run concurrently with each other).
type Index struct {
	codes []uint64 // by id
	alive []uint64 // bitset by id: live
	based []uint64 // bitset by id: live and held by the compact tables
	n     int

	// Compact tables: entries of table t sorted by substring t; the
	// entries with substring v are [offs[t][v], offs[t][v+1]).
	offs   [substrings][]uint32
	ids    [substrings][]uint32
	bcodes [substrings][]uint64
	baseN  int // entries in the compact tables, live or dead
	dead   int // of which no longer live (or re-added to the delta)

	// Delta: live entries added since the last compaction, by substring.
	delta  [substrings]map[uint16][]uint32
	deltaN int

	// masks[d] lists the 16-bit flip masks of popcount exactly d.
	masks [][]uint16
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	ix := &Index{}
	ix.masks = make([][]uint16, subBits+1)
	for v := 0; v < buckets; v++ {
		c := bits.OnesCount16(uint16(v))
		ix.masks[c] = append(ix.masks[c], uint16(v))
	}
	for t := range ix.delta {
		ix.delta[t] = map[uint16][]uint32{}
		ix.offs[t] = make([]uint32, buckets+1)
	}
	return ix
}

func sub(code uint64, t int) uint16 { return uint16(code >> (subBits * t)) }

func has(set []uint64, id uint32) bool {
	w := int(id >> 6)
	return w < len(set) && set[w]&(1<<(id&63)) != 0
}

func setBit(set *[]uint64, id uint32) {
	for int(id>>6) >= len(*set) {
		*set = append(*set, 0)
	}
	(*set)[id>>6] |= 1 << (id & 63)
}

func clearBit(set []uint64, id uint32) {
	if w := int(id >> 6); w < len(set) {
		set[w] &^= 1 << (id & 63)
	}
}

// Len returns the number of live entries.
func (ix *Index) Len() int { return ix.n }

// Has reports whether id is live.
func (ix *Index) Has(id uint32) bool { return has(ix.alive, id) }

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
		codes := make([]uint64, max(int(id)+1, 2*len(ix.codes)))
		copy(codes, ix.codes)
		ix.codes = codes
	}
	ix.codes[id] = code
	setBit(&ix.alive, id)
	ix.n++
	for t := range ix.delta {
		k := sub(code, t)
		ix.delta[t][k] = append(ix.delta[t][k], id)
	}
	ix.deltaN++
	if ix.deltaN > max(minDelta, ix.n/16) {
		ix.Compact()
	}
	return nil
}

// Remove deletes id; it reports whether id was present.
func (ix *Index) Remove(id uint32) bool {
	if !ix.Has(id) {
		return false
	}
	code := ix.codes[id]
	if has(ix.based, id) {
		clearBit(ix.based, id)
		ix.dead++
	} else {
		for t := range ix.delta {
			k := sub(code, t)
			l := ix.delta[t][k]
			if i := slices.Index(l, id); i >= 0 {
				l[i] = l[len(l)-1]
				l = l[:len(l)-1]
			}
			if len(l) == 0 {
				delete(ix.delta[t], k)
			} else {
				ix.delta[t][k] = l
			}
		}
		ix.deltaN--
	}
	clearBit(ix.alive, id)
	ix.codes[id] = 0
	ix.n--
	if ix.dead > max(minDelta, ix.baseN/16) {
		ix.Compact()
	}
	return true
}

// Compact moves every live entry into the compact tables and drops removed
// ones. Add and Remove call it when the delta or the dead entries grow past
// a sixteenth of the index; a caller that has just loaded a bank may call it
// so queries do not probe the delta at all.
func (ix *Index) Compact() {
	live := make([]uint32, 0, ix.n)
	for w, word := range ix.alive {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &= word - 1
			live = append(live, uint32(w*64+b))
		}
	}
	for t := 0; t < substrings; t++ {
		offs := ix.offs[t]
		clear(offs)
		for _, id := range live {
			offs[int(sub(ix.codes[id], t))+1]++
		}
		for v := 1; v <= buckets; v++ {
			offs[v] += offs[v-1]
		}
		ids := slices.Grow(ix.ids[t][:0], len(live))[:len(live)]
		codes := slices.Grow(ix.bcodes[t][:0], len(live))[:len(live)]
		next := make([]uint32, buckets)
		copy(next, offs[:buckets])
		for _, id := range live { // ids ascending within a bucket
			c := ix.codes[id]
			k := sub(c, t)
			ids[next[k]], codes[next[k]] = id, c
			next[k]++
		}
		ix.ids[t], ix.bcodes[t] = ids, codes
		ix.delta[t] = map[uint16][]uint32{}
	}
	ix.based = slices.Clone(ix.alive)
	ix.baseN, ix.dead, ix.deltaN = len(live), 0, 0
}

// Search returns the entries within Hamming distance radius of q (every bit
// counts): SearchMasked with care = all ones.
func (ix *Index) Search(dst []Hit, q uint64, radius int) []Hit {
	return ix.SearchMasked(dst, q, ^uint64(0), radius)
}

// plan is the per-table probe radius (-1: the table is not probed) and the
// number of buckets probed.
type plan struct {
	radius [substrings]int
	probes int
}

// tableProbes is how many buckets a table probes at substring radius s when
// dc of its bits are don't-care: every value of those bits times the flips
// of at most s of the others.
func tableProbes(s, dc int) int {
	if s < 0 {
		return 0
	}
	n, c := 0, 1
	for d := 0; d <= s && d <= subBits-dc; d++ {
		n += c
		c = c * (subBits - dc - d) / (d + 1)
	}
	return n << dc
}

// planFor chooses substring radii with Σ(sᵢ+1) > radius that probe the
// fewest buckets (greedy on the marginal cost).
func planFor(care uint64, radius int) plan {
	var p plan
	var dc [substrings]int
	for t := range p.radius {
		p.radius[t] = -1
		dc[t] = subBits - bits.OnesCount16(sub(care, t))
	}
	for need := radius + 1; need > 0; need-- {
		best, cost := -1, 0
		for t := range p.radius {
			if p.radius[t] >= subBits-dc[t] {
				continue // already exhaustive
			}
			c := tableProbes(p.radius[t]+1, dc[t]) - tableProbes(p.radius[t], dc[t])
			if best < 0 || c < cost {
				best, cost = t, c
			}
		}
		if best < 0 {
			break // every table exhaustive: everything is probed
		}
		p.radius[best]++
	}
	for t := range p.radius {
		p.probes += tableProbes(p.radius[t], dc[t])
	}
	return p
}

// probe is a bucket to read: table t, substring value v.
type probe struct {
	t uint8
	v uint16
}

// run is the part of table t's compact arrays a probe found.
type run struct {
	t      uint8
	lo, hi uint32
}

// SearchMasked implements Searcher.
func (ix *Index) SearchMasked(dst []Hit, q, care uint64, radius int) []Hit {
	if radius < 0 || ix.n == 0 {
		return dst
	}
	start := len(dst)
	p := planFor(care, radius)
	// Measured costs (bench-bank): a probe of the compact tables costs about
	// as much as 24 sequential code checks plus one per entry of its bucket;
	// a probe of the delta about 12 (a map lookup). Past the point where
	// that exceeds a scan of the codes, scan them instead (same results,
	// checked by the property test).
	cost := p.probes * (24 + ix.baseN/buckets)
	if ix.deltaN > 0 {
		cost += p.probes * 12
	}
	if cost > ix.n+ix.dead {
		return ix.scan(dst, start, q, care, radius)
	}
	var qs, cs [substrings]uint16
	for t := range qs {
		qs[t], cs[t] = sub(q, t), sub(care, t)
	}
	// found reports whether an earlier table's probes already cover code.
	found := func(code uint64, t int) bool {
		for u := 0; u < t; u++ {
			if s := p.radius[u]; s >= 0 && bits.OnesCount16((sub(code, u)^qs[u])&cs[u]) <= s {
				return true
			}
		}
		return false
	}
	// Three passes, so that the memory reads of a pass do not wait for each
	// other: the buckets to probe, their bounds, their codes.
	var valBuf [256]probe
	var runBuf [256]run
	vals, runs := valBuf[:0], runBuf[:0]
	for t := 0; t < substrings; t++ {
		s := p.radius[t]
		if s < 0 {
			continue
		}
		dcm := ^cs[t]
		for d := 0; d <= s; d++ {
			for _, f := range ix.masks[d] {
				if f&dcm != 0 {
					continue
				}
				// Every value of the don't-care bits: a runs over the
				// subsets of dcm (Knuth's subset enumeration).
				for a := uint16(0); ; a = (a - dcm) & dcm {
					vals = append(vals, probe{t: uint8(t), v: qs[t] ^ f ^ a})
					if a == dcm {
						break
					}
				}
			}
		}
	}
	for _, pr := range vals {
		offs := ix.offs[pr.t]
		if lo, hi := offs[pr.v], offs[uint32(pr.v)+1]; lo < hi {
			runs = append(runs, run{t: pr.t, lo: lo, hi: hi})
		}
	}
	// Touch every run's first and last code before reading any run
	// whole: these loads are independent and overlap, where the loop below
	// would wait for each run in turn (its exit branch stops speculation).
	var touch uint64
	for _, r := range runs {
		codes := ix.bcodes[r.t]
		touch += codes[r.lo] ^ codes[min(r.lo+8, r.hi-1)] ^ codes[r.hi-1]
	}
	runtime.KeepAlive(touch)
	for _, r := range runs {
		t := int(r.t)
		ids, codes := ix.ids[t], ix.bcodes[t]
		for i := r.lo; i < r.hi; i++ {
			code := codes[i]
			dist := bits.OnesCount64((code ^ q) & care)
			if dist > radius || found(code, t) || !has(ix.based, ids[i]) {
				continue
			}
			dst = append(dst, Hit{ID: ids[i], Distance: dist})
		}
	}
	if ix.deltaN > 0 {
		for _, pr := range vals {
			for _, id := range ix.delta[pr.t][pr.v] {
				code := ix.codes[id]
				if dist := bits.OnesCount64((code ^ q) & care); dist <= radius && !found(code, int(pr.t)) {
					dst = append(dst, Hit{ID: id, Distance: dist})
				}
			}
		}
	}
	sortHits(dst[start:])
	return dst
}

// scan checks every live code: the compact table's codes in order, then the
// delta's.
func (ix *Index) scan(dst []Hit, start int, q, care uint64, radius int) []Hit {
	ids, codes := ix.ids[0], ix.bcodes[0]
	for i, code := range codes {
		if d := bits.OnesCount64((code ^ q) & care); d <= radius && has(ix.based, ids[i]) {
			dst = append(dst, Hit{ID: ids[i], Distance: d})
		}
	}
	if ix.deltaN > 0 {
		for _, l := range ix.delta[0] {
			for _, id := range l {
				if d := bits.OnesCount64((ix.codes[id] ^ q) & care); d <= radius {
					dst = append(dst, Hit{ID: id, Distance: d})
				}
			}
		}
	}
	sortHits(dst[start:])
	return dst
}

func sortHits(h []Hit) {
	if len(h) < 2 {
		return
	}
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

// MemoryBytes estimates the heap the index holds: codes, flags, the compact
// tables (capacity, not length) and the delta's lists.
func (ix *Index) MemoryBytes() int64 {
	n := int64(cap(ix.codes))*8 + int64(cap(ix.alive)+cap(ix.based))*8
	for t := 0; t < substrings; t++ {
		n += int64(cap(ix.offs[t]))*4 + int64(cap(ix.ids[t]))*4 + int64(cap(ix.bcodes[t]))*8
		for _, l := range ix.delta[t] {
			n += 48 + int64(cap(l))*4 // map entry and slice header, roughly
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

// Search returns the entries within Hamming distance radius of q.
func (l *Linear) Search(dst []Hit, q uint64, radius int) []Hit {
	return l.SearchMasked(dst, q, ^uint64(0), radius)
}

// SearchMasked implements Searcher.
func (l *Linear) SearchMasked(dst []Hit, q, care uint64, radius int) []Hit {
	start := len(dst)
	for i, c := range l.codes {
		if d := bits.OnesCount64((c ^ q) & care); d <= radius {
			dst = append(dst, Hit{ID: l.ids[i], Distance: d})
		}
	}
	sortHits(dst[start:])
	return dst
}
