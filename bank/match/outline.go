package match

import "slices"

// Outline logos (match-11). A logo drawn as an outline is a stroke along
// every edge of its silhouette: the outer edge of each part and the edge
// of each counter. match-7 proposes a single component with all its holes
// filled, which recovers a one-part logo without counters; a logo of
// several parts (each its own ring) or with counters (an inner ring inside
// the outer one, a separate component) needs the rings together, filled by
// parity: what lies inside an odd number of rings is the logo, what lies
// inside an even number (a counter) is not (dev seeds 101–103: outline
// style found 5/15).

// fillParity returns the silhouette that the strokes of mk outline: the
// strokes plus every region of the rest that lies inside an odd number of
// strokes (reached from the outside by crossing an odd number of stroke
// components), and whether it fills anything (a region at depth 1).
func fillParity(mk Mask) (Mask, bool) {
	bw, bh := mk.W, mk.H
	if bw < 3 || bh < 3 {
		return Mask{}, false
	}
	// Pad by one pixel so the outside is one region.
	pw, ph := bw+2, bh+2
	in := make([]bool, pw*ph)
	for y := 0; y < bh; y++ {
		for x := 0; x < bw; x++ {
			in[(y+1)*pw+x+1] = mk.Pix[y*bw+x] != 0
		}
	}
	// Label the strokes (8-connected, ids from 0) and the rest
	// (4-connected, its dual; ids -2, -3, …).
	lab := make([]int32, pw*ph)
	for i := range lab {
		lab[i] = -1
	}
	var stack []int
	nStroke, nSpace := 0, 0
	for start := range in {
		if lab[start] != -1 {
			continue
		}
		stroke := in[start]
		var id int32
		if stroke {
			id = int32(nStroke)
			nStroke++
		} else {
			id = int32(-2 - nSpace)
			nSpace++
		}
		lab[start] = id
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%pw, p/pw
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if dx == 0 && dy == 0 || (!stroke && dx != 0 && dy != 0) {
						continue
					}
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= pw || ny >= ph {
						continue
					}
					q := ny*pw + nx
					if lab[q] == -1 && in[q] == stroke {
						lab[q] = id
						stack = append(stack, q)
					}
				}
			}
		}
	}
	if nStroke == 0 || nSpace < 2 {
		return Mask{}, false
	}
	// Adjacency between spaces and strokes (4-neighbours).
	adjS := make([][]int32, nStroke) // stroke -> spaces (as space index)
	adjP := make([][]int32, nSpace)  // space -> strokes
	for y := 0; y < ph; y++ {
		for x := 0; x < pw; x++ {
			a := lab[y*pw+x]
			if a < 0 {
				continue
			}
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= pw || ny >= ph {
					continue
				}
				b := lab[ny*pw+nx]
				if b >= 0 {
					continue
				}
				sp := -2 - b
				if !slices.Contains(adjS[a], sp) {
					adjS[a] = append(adjS[a], sp)
					adjP[sp] = append(adjP[sp], a)
				}
			}
		}
	}
	// Breadth first from the outside (space 0: the padded corner).
	outside := -2 - lab[0]
	depth := make([]int, nSpace)
	for i := range depth {
		depth[i] = -1
	}
	depth[outside] = 0
	strokeDone := make([]bool, nStroke)
	queue := []int32{outside}
	odd := false
	for len(queue) > 0 {
		sp := queue[0]
		queue = queue[1:]
		for _, s := range adjP[sp] {
			if strokeDone[s] {
				continue
			}
			strokeDone[s] = true
			for _, t := range adjS[s] {
				if depth[t] < 0 {
					depth[t] = depth[sp] + 1
					if depth[t]%2 == 1 {
						odd = true
					}
					queue = append(queue, t)
				}
			}
		}
	}
	if !odd {
		return Mask{}, false
	}
	out := NewMask(bw, bh)
	for y := 0; y < bh; y++ {
		for x := 0; x < bw; x++ {
			l := lab[(y+1)*pw+x+1]
			if l >= 0 || depth[-2-l]%2 == 1 {
				out.Pix[y*bw+x] = 255
			}
		}
	}
	return out, true
}

// groupArea is the number of pixels of the components members.
func groupArea(comps []component, members []int) int {
	n := 0
	for _, i := range members {
		n += comps[i].area
	}
	return n
}
