package textmatch

// automaton is an Aho–Corasick automaton over runes: one pass over a text
// finds every occurrence of every pattern. Transitions live in one map keyed
// by (state, rune), which keeps thousands of patterns compact; it is
// read-only after build and so safe for concurrent use.
type automaton struct {
	next  map[uint64]int32 // state<<32 | rune → state
	fail  []int32
	out   [][]int32 // patterns ending at the state
	dict  []int32   // nearest state on the failure chain with outputs, or -1
	plens []int32   // pattern length in runes, by pattern id
}

func edge(state int32, r rune) uint64 { return uint64(state)<<32 | uint64(uint32(r)) }

// buildAutomaton compiles patterns (pattern id = index; empty patterns never match).
func buildAutomaton(patterns [][]rune) *automaton {
	a := &automaton{next: map[uint64]int32{}, fail: []int32{0}, out: [][]int32{nil}}
	for id, p := range patterns {
		a.plens = append(a.plens, int32(len(p)))
		if len(p) == 0 {
			continue
		}
		s := int32(0)
		for _, r := range p {
			n, ok := a.next[edge(s, r)]
			if !ok {
				n = int32(len(a.fail))
				a.fail = append(a.fail, 0)
				a.out = append(a.out, nil)
				a.next[edge(s, r)] = n
			}
			s = n
		}
		a.out[s] = append(a.out[s], int32(id))
	}
	// Breadth-first over the trie: children by state, from the edge map.
	children := make([][]struct {
		r rune
		s int32
	}, len(a.fail))
	for k, n := range a.next {
		from := int32(k >> 32)
		children[from] = append(children[from], struct {
			r rune
			s int32
		}{rune(uint32(k)), n})
	}
	a.dict = make([]int32, len(a.fail))
	a.dict[0] = -1
	queue := []int32{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, c := range children[s] {
			f := int32(0)
			if s != 0 {
				f = a.step(a.fail[s], c.r)
			}
			a.fail[c.s] = f
			if len(a.out[f]) > 0 {
				a.dict[c.s] = f
			} else {
				a.dict[c.s] = a.dict[f]
			}
			queue = append(queue, c.s)
		}
	}
	return a
}

// step follows the goto function from s on r, falling back along failure links.
func (a *automaton) step(s int32, r rune) int32 {
	for {
		if n, ok := a.next[edge(s, r)]; ok {
			return n
		}
		if s == 0 {
			return 0
		}
		s = a.fail[s]
	}
}

// scan calls hit(pattern, start, end) for every occurrence in text, with
// rune offsets start (inclusive) and end (exclusive).
func (a *automaton) scan(text []rune, hit func(p int32, start, end int)) {
	s := int32(0)
	for i, r := range text {
		s = a.step(s, r)
		for o := s; o >= 0; o = a.dict[o] {
			for _, p := range a.out[o] {
				hit(p, i+1-int(a.plens[p]), i+1)
			}
			if o == 0 {
				break
			}
		}
	}
}
