package match

import (
	"hash/fnv"
	"image"
	"slices"
)

// propose splits the work image into colour clusters (and the alpha
// channel), labels connected components and returns the candidate regions:
// single components, the holes of filled components (inverted art),
// proximity groups at several gaps, and the groups of same-colour components
// inside multi-scale windows.
func (m *Matcher) propose(w *work) ([]candidate, []component) {
	return m.proposeWith(w, proposal{minRel: m.cfg.MinRelSize, gaps: []float64{0.015, 0.04, 0.08}, windows: []float64{0.25, 0.35, 0.5, 0.7, 1.0}, parity: m.cfg.OutlineParity})
}

// proposal sets what proposeWith proposes.
type proposal struct {
	minRel, maxRel float64   // candidate sizes (longer side / work side); maxRel 0: no limit
	gaps           []float64 // proximity-group gaps (share of the work side)
	windows        []float64 // window-group sizes (share of the work side)
	maxCands       int       // 0: no limit
	// parity: proximity groups are also proposed filled by parity
	// (fillParity; the main pass only: at the detail size its labelling
	// of every group's box cost as much as the segmentation, and the
	// outline logos it found on the dev seeds were main-pass regions).
	parity bool
	// lineArt: thin components larger than maxRel are proposed too, each
	// alone and with the components of its colour inside its box (line
	// art whose hairlines the main pass loses; lineart.go).
	lineArt bool
}

// proposeDetail proposes the small regions of a design seen at
// Config.DetailSize: those whose longer side lies between DetailMinRel and
// the main pass's smallest candidate, singles, holes, filled outlines and
// near proximity groups (no windows), largest first up to
// Config.MaxDetailCandidates.
//
// Both passes see the same trimmed design, so the main pass's smallest
// candidate is MinRelSize of either side (match-7 divided it by the
// detail/main size ratio, and logos at 5.75–10 % of the trimmed design fell
// between the two passes).
func (m *Matcher) proposeDetail(w *work) []candidate {
	maxRel := m.cfg.MinRelSize * 1.15
	c, _ := m.proposeWith(w, proposal{minRel: m.cfg.DetailMinRel, maxRel: maxRel, gaps: []float64{0.006, 0.015}, maxCands: m.cfg.MaxDetailCandidates, lineArt: true})
	return c
}

func (m *Matcher) proposeWith(w *work, pr proposal) ([]candidate, []component) {
	n := w.W * w.H
	labels := quantize(w, m.cfg.Clusters, 6)
	comps := components(labels, w.W, w.H, 255, 0)
	var al []uint8
	if w.hasAlpha {
		al = make([]uint8, n)
		for i, a := range w.A {
			if a >= 128 {
				al[i] = 1
			}
		}
		comps = append(comps, components(al, w.W, w.H, 0, 1)...)
	}
	side := max(w.W, w.H)
	minSide := max(12, int(pr.minRel*float64(side)+0.5))
	maxSide := side + 1
	if pr.maxRel > 0 {
		maxSide = int(pr.maxRel*float64(side) + 0.5)
	}
	minArea := max(4, n/20000)
	// The background touches the work image's border on three sides or
	// more. (A design trimmed to its content keeps a margin, so art that
	// fills the trimmed design never touches the border.)
	isBackground := func(c *component) bool {
		touches := 0
		if c.box.Min.X == 0 {
			touches++
		}
		if c.box.Min.Y == 0 {
			touches++
		}
		if c.box.Max.X == w.W {
			touches++
		}
		if c.box.Max.Y == w.H {
			touches++
		}
		return touches >= 3 && c.box.Dx() >= w.W*9/10 && c.box.Dy() >= w.H*9/10
	}
	bigEnough := func(r image.Rectangle) bool { s := max(r.Dx(), r.Dy()); return s >= minSide && s <= maxSide }
	// thin caches thinStroke per component (0 unknown, 1 thin, -1 not).
	thin := make([]int8, len(comps))
	isThin := func(i int) bool {
		if thin[i] == 0 {
			thin[i] = -1
			c := &comps[i]
			lab := labels
			if c.layer == 1 {
				lab = al
			}
			if thinStroke(c, lab, w.W, w.H) {
				thin[i] = 1
			}
		}
		return thin[i] > 0
	}

	// Same-colour lists of usable components, largest first, capped.
	byColour := map[int][]int{}
	for i := range comps {
		c := &comps[i]
		if c.area < minArea || isBackground(c) {
			continue
		}
		k := c.layer<<8 | int(c.label)
		byColour[k] = append(byColour[k], i)
	}
	colourKeys := make([]int, 0, len(byColour))
	for k, list := range byColour {
		slices.SortFunc(list, func(a, b int) int { return comps[b].area - comps[a].area })
		if len(list) > 300 {
			byColour[k] = list[:300]
		}
		colourKeys = append(colourKeys, k)
	}
	slices.Sort(colourKeys)

	var cands []candidate
	seen := map[uint64]bool{}
	var addUnion func(members []int, complete, lineArt bool)
	// addGroup proposes the members' union; with complete, also the union
	// with occluded pixels filled back (completeRuns). A union of thin
	// strokes larger than lineArtDrawn is hashed and templated from its
	// line-art reduction (lineArtShape). With lineArt, the union is line
	// art proposed beyond maxSide (the caller found its lead member thin).
	addGroup := func(members []int, complete bool) { addUnion(members, complete, false) }
	addUnion = func(members []int, complete, lineArt bool) {
		if len(members) == 0 {
			return
		}
		slices.Sort(members)
		h := fnv.New64a()
		for _, i := range members {
			h.Write([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		}
		if lineArt {
			h.Write([]byte{'L'}) // a line-art union is a candidate of its own
		}
		key := h.Sum64()
		if seen[key] {
			return
		}
		seen[key] = true
		box := comps[members[0]].box
		for _, i := range members[1:] {
			box = box.Union(comps[i].box)
		}
		if s := max(box.Dx(), box.Dy()); lineArt && s <= maxSide || !lineArt && !bigEnough(box) {
			return
		}
		mk := NewMask(box.Dx(), box.Dy())
		for _, i := range members {
			for _, p := range comps[i].pix {
				x, y := int(p)%w.W-box.Min.X, int(p)/w.W-box.Min.Y
				mk.Pix[y*mk.W+x] = 255
			}
		}
		ids := make([]int32, len(members))
		for j, i := range members {
			ids[j] = int32(i)
		}
		allThin := max(box.Dx(), box.Dy()) > lineArtDrawn
		for _, i := range members {
			if !allThin {
				break
			}
			allThin = isThin(i)
		}
		if lineArt || allThin {
			cands = append(cands, candidate{mask: mk, box: box, members: ids, lineArt: lineArtShape(mk)})
			return // strokes: no occluders filled, no parity
		}
		cands = append(cands, candidate{mask: mk, box: box, members: ids})
		if complete && pr.parity && len(members) > 1 && 2*groupArea(comps, members) <= box.Dx()*box.Dy() {
			// Outline rings of several parts, or with counters, filled by
			// parity (fillParity). Strokes cover little of their box; a
			// group that covers half of it or more is not outlines.
			if fm, ok := fillParity(mk); ok {
				cands = append(cands, candidate{mask: fm, box: box, members: ids, outlined: true})
			}
		}
		if c0 := &comps[members[0]]; complete && c0.layer == 0 {
			if full, fill, ok := completeRuns(mk, box, labels, w.W, c0.label); ok {
				cands = append(cands, candidate{mask: full, box: box, occluded: fill, members: ids})
			}
		}
	}

	// Singles, and the holes of single components (a shape knocked out of a fill).
	for _, k := range colourKeys {
		for _, i := range byColour[k] {
			c := &comps[i]
			if !bigEnough(c.box) {
				continue
			}
			addGroup([]int{i}, true)
			if hm, hb, ok := holes(c, w.W); ok {
				if bigEnough(hb) {
					cands = append(cands, candidate{mask: hm, box: hb, inverted: true, host: int32(i), hasHost: true})
				}
				// The component with its holes filled: a logo drawn as an
				// outline (a stroke along its edge) is its silhouette.
				{
					fm := NewMask(c.box.Dx(), c.box.Dy())
					for _, p := range c.pix {
						fm.Pix[(int(p)/w.W-c.box.Min.Y)*fm.W+int(p)%w.W-c.box.Min.X] = 255
					}
					ox, oy := hb.Min.X-c.box.Min.X, hb.Min.Y-c.box.Min.Y
					for y := 0; y < hm.H; y++ {
						for x := 0; x < hm.W; x++ {
							if hm.Pix[y*hm.W+x] != 0 {
								fm.Pix[(y+oy)*fm.W+x+ox] = 255
							}
						}
					}
					cands = append(cands, candidate{mask: fm, box: c.box, members: []int32{int32(i)}, filled: true})
				}
			}
		}
	}
	// Also the holes of the background (shapes cut out of a plain field are
	// then the field's holes; usually the same as the other components).

	// Line art beyond the size limit: a thin component, alone and with
	// the components of its colour inside its box grown by a twentieth
	// (an icon's outline and its inner strokes).
	if pr.lineArt {
		for _, k := range colourKeys {
			list := byColour[k]
			for _, i := range list {
				c := &comps[i]
				if s := max(c.box.Dx(), c.box.Dy()); s <= maxSide || !isThin(i) {
					continue
				}
				addUnion([]int{i}, false, true)
				grown := c.box.Inset(-max(c.box.Dx(), c.box.Dy()) / 20)
				members := []int{i}
				for _, j := range list {
					if j != i && comps[j].box.In(grown) {
						members = append(members, j)
					}
				}
				if len(members) > 1 {
					addUnion(members, false, true)
				}
			}
		}
	}

	// Proximity groups.
	for _, gapRel := range pr.gaps {
		gap := int(gapRel*float64(side) + 0.5)
		for _, k := range colourKeys {
			list := byColour[k]
			parent := make([]int, len(list))
			for i := range parent {
				parent[i] = i
			}
			var find func(int) int
			find = func(i int) int {
				for parent[i] != i {
					parent[i] = parent[parent[i]]
					i = parent[i]
				}
				return i
			}
			for a := 0; a < len(list); a++ {
				ba := comps[list[a]].box.Inset(-gap)
				for b := a + 1; b < len(list); b++ {
					if ba.Overlaps(comps[list[b]].box) {
						if ra, rb := find(a), find(b); ra != rb {
							parent[ra] = rb
						}
					}
				}
			}
			groups := map[int][]int{}
			for i := range list {
				r := find(i)
				groups[r] = append(groups[r], list[i])
			}
			roots := make([]int, 0, len(groups))
			for r := range groups {
				roots = append(roots, r)
			}
			slices.Sort(roots)
			for _, r := range roots {
				if g := groups[r]; len(g) > 1 {
					addGroup(g, true)
					if pr.lineArt && isThin(g[0]) {
						// a line broken where other art crosses it,
						// or by k-means along its antialiased edge
						addUnion(g, false, true)
					}
				}
			}
		}
	}

	// Window groups: same-colour components wholly inside a window.
	for _, rel := range pr.windows {
		s := int(rel*float64(side) + 0.5)
		stride := max(1, s/4)
		for y0 := 0; ; y0 += stride {
			for x0 := 0; ; x0 += stride {
				win := image.Rect(x0, y0, x0+s, y0+s)
				for _, k := range colourKeys {
					var members []int
					for _, i := range byColour[k] {
						if comps[i].box.In(win) {
							members = append(members, i)
						}
					}
					if len(members) > 1 {
						addGroup(members, false)
					}
				}
				if x0+s >= w.W {
					break
				}
			}
			if y0+s >= w.H {
				break
			}
		}
	}
	if pr.maxCands > 0 && len(cands) > pr.maxCands {
		slices.SortStableFunc(cands, func(a, b candidate) int {
			return max(b.box.Dx(), b.box.Dy()) - max(a.box.Dx(), a.box.Dy())
		})
		cands = cands[:pr.maxCands]
	}
	seg := &segmentation{w: w.W, h: w.H, labels: labels, alpha: al, comps: comps}
	for i := range cands {
		cands[i].comps = comps
		cands[i].seg = seg
		cands[i].scale = w.scale
	}
	return cands, comps
}

// enclosure describes what encloses box (work coordinates): "disc" when the
// nearest enclosing region is a filled disc, "flag" when a rectangle of a
// flag's proportions encloses it (possibly the whole design), "disc_on_flag"
// for both, and "none".
func enclosure(w *work, comps []component, box image.Rectangle) string {
	type enc struct {
		c    *component
		area int
	}
	var encl []enc
	for i := range comps {
		c := &comps[i]
		if c.layer != 0 || !box.In(c.box) || c.box == box {
			continue
		}
		// it must surround the box, not merely share its bounding box
		if c.box.Dx() < box.Dx()+4 && c.box.Dy() < box.Dy()+4 {
			continue
		}
		// thin outlines (antialiasing rings) are not what a symbol sits on
		if c.area*10 < c.box.Dx()*c.box.Dy() {
			continue
		}
		encl = append(encl, enc{c, c.box.Dx() * c.box.Dy()})
	}
	slices.SortFunc(encl, func(a, b enc) int { return a.area - b.area })
	shape := func(c *component) string {
		bw, bh := c.box.Dx(), c.box.Dy()
		filled := c.area
		if hm, _, ok := holes(c, w.W); ok {
			for _, v := range hm.Pix {
				if v != 0 {
					filled++
				}
			}
		}
		ratio := float64(filled) / float64(bw*bh)
		aspect := float64(bw) / float64(bh)
		if w.trimmed && bw >= w.W*97/100 && bh >= w.H*97/100 {
			// the field around the content was trimmed off: it is the
			// whole design
			aspect = w.fullAspect
		}
		switch {
		case aspect > 0.85 && aspect < 1.18 && ratio > 0.7 && ratio < 0.86:
			return "disc"
		case ratio > 0.93 && ((aspect > 1.3 && aspect < 2.1) || (aspect > 1/2.1 && aspect < 1/1.3)):
			return "flag"
		}
		return ""
	}
	out := ""
	for i, e := range encl {
		if i >= 6 {
			break
		}
		switch s := shape(e.c); {
		case s == "disc" && out == "":
			out = "disc"
		case s == "flag" && out == "disc":
			return "disc_on_flag"
		case s == "flag":
			return "flag"
		}
	}
	if out == "" {
		// the design itself may be the flag
		aspect := float64(w.W) / float64(w.H)
		for _, e := range encl {
			if e.c.box.Dx() >= w.W*97/100 && e.c.box.Dy() >= w.H*97/100 && aspect > 1.3 && aspect < 2.1 && shape(e.c) == "flag" {
				return "flag"
			}
		}
		return "none"
	}
	return out
}

// holes returns the pixels inside c's box that c does not cover and that
// are not connected to the box's border: the shape knocked out of c.
func holes(c *component, stride int) (Mask, image.Rectangle, bool) {
	box := c.box
	bw, bh := box.Dx(), box.Dy()
	if bw < 3 || bh < 3 {
		return Mask{}, image.Rectangle{}, false
	}
	in := make([]bool, bw*bh)
	for _, p := range c.pix {
		x, y := int(p)%stride-box.Min.X, int(p)/stride-box.Min.Y
		in[y*bw+x] = true
	}
	outside := make([]bool, bw*bh)
	var stack []int
	push := func(x, y int) {
		i := y*bw + x
		if !in[i] && !outside[i] {
			outside[i] = true
			stack = append(stack, i)
		}
	}
	for x := 0; x < bw; x++ {
		push(x, 0)
		push(x, bh-1)
	}
	for y := 0; y < bh; y++ {
		push(0, y)
		push(bw-1, y)
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%bw, i/bw
		// 4-connectivity for the background (dual of the 8-connected shape)
		if x > 0 {
			push(x-1, y)
		}
		if x < bw-1 {
			push(x+1, y)
		}
		if y > 0 {
			push(x, y-1)
		}
		if y < bh-1 {
			push(x, y+1)
		}
	}
	mk := NewMask(bw, bh)
	area := 0
	for i := range in {
		if !in[i] && !outside[i] {
			mk.Pix[i] = 255
			area++
		}
	}
	if area*20 < bw*bh {
		return Mask{}, image.Rectangle{}, false
	}
	hb := mk.Bounds(128)
	return mk.Crop(hb), hb.Add(box.Min), true
}
