package match

import "image"

// Occlusion by runs (match-11). match-8 filled a third colour's pixels
// only where the region encloses them along their row *and* their
// column. A line of text across a logo, or art over its edge, also bites
// into the logo's silhouette where it crosses the logo's edge: there the
// occluder is open to the outside in one direction, stays unfilled, and
// the bite's edges cost the outline score what the logo's own edges would
// have earned (dev seeds 101–103: recall with text across 16/40).
//
// completeRuns fills instead every straight run of occluder pixels, along
// a row or a column, whose two ends touch the region's colour: a glyph
// column crossing the logo's edge has the logo above and below it, the
// glyph's pixels over the ground do not. A run inside a counter of the
// logo (art in an O) ends on the ground and is left alone, which the
// row-and-column rule filled. Pixels of the region's colour that the
// region and the filled runs then enclose (a glyph's counter over the
// logo) join the region as seen pixels.

// maxRunGap is how many pixels of the ground colour (antialiasing between
// an occluder and the region) a run may end in before the region's colour.
const maxRunGap = 1

// groundFrame is the width of the frame around a region's box whose
// colours count towards its ground (regionGround).
const groundFrame = 3

// completeRuns returns mk (the region, box in work coordinates, colour
// label lab in labels of width W) with the occluder runs filled, and the
// filled pixels as a mask of the same size; ok is false when there is
// nothing (or too much) to fill. Occluder pixels are those of neither the
// region's colour nor the ground's (the commonest other colour outside the
// region's row and column extents in its box).
func completeRuns(mk Mask, box image.Rectangle, labels []uint8, W int, lab uint8) (Mask, Mask, bool) {
	bw, bh := mk.W, mk.H
	if bw < 8 || bh < 8 {
		return Mask{}, Mask{}, false
	}
	bg, area, ok := regionGround(mk, box, labels, W, lab)
	if !ok {
		return Mask{}, Mask{}, false
	}
	// kind: 0 ground (or unknown), 1 region colour, 2 occluder.
	kind := make([]uint8, bw*bh)
	for y := 0; y < bh; y++ {
		row := labels[(box.Min.Y+y)*W+box.Min.X:]
		for x := 0; x < bw; x++ {
			i := y*bw + x
			switch l := row[x]; {
			case mk.Pix[i] != 0 || l == lab:
				kind[i] = 1
			case int(l) != bg:
				kind[i] = 2
			}
		}
	}
	fill := NewMask(bw, bh)
	filled := 0
	// runs scans one line of n pixels at index start, step apart.
	runs := func(start, step, n int) {
		for p := 0; p < n; {
			if kind[start+p*step] != 2 {
				p++
				continue
			}
			q := p
			for q < n && kind[start+q*step] == 2 {
				q++
			}
			// [p, q) is a run of occluder pixels; find the region's colour
			// within maxRunGap ground pixels beyond each end.
			a, b := p-1, q
			for g := 0; a >= 0 && kind[start+a*step] == 0 && g < maxRunGap; g++ {
				a--
			}
			for g := 0; b < n && kind[start+b*step] == 0 && g < maxRunGap; g++ {
				b++
			}
			if a >= 0 && b < n && kind[start+a*step] == 1 && kind[start+b*step] == 1 {
				for k := a + 1; k < b; k++ {
					i := start + k*step
					if fill.Pix[i] == 0 && mk.Pix[i] == 0 {
						fill.Pix[i] = 255
						filled++
					}
				}
			}
			p = q
		}
	}
	for y := 0; y < bh; y++ {
		runs(y*bw, 1, bw)
	}
	for x := 0; x < bw; x++ {
		runs(x, bw, bh)
	}
	if filled == 0 || float64(filled) < minOccludedShare*float64(area) {
		return Mask{}, Mask{}, false // before the floods below: most regions stop here
	}
	out := NewMask(bw, bh)
	for i, v := range mk.Pix {
		out.Pix[i] = v | fill.Pix[i]
	}
	// Region-coloured pixels enclosed by the region and the filled runs
	// are the region's (a glyph's counter over the logo): seen, not filled.
	outside := make([]bool, bw*bh)
	claim := func(i int) bool {
		if !outside[i] && out.Pix[i] == 0 {
			outside[i] = true
			return true
		}
		return false
	}
	flood4(bw, bh, borderSeeds(bw, bh, claim), claim)
	for i := range out.Pix {
		if out.Pix[i] == 0 && !outside[i] && kind[i] == 1 {
			out.Pix[i] = 255
		}
	}
	// What is hidden: the filled runs, and the pixels of the occluder's
	// colours joined to them — a bite at the region's edge, whose runs end
	// on the ground, is unseen too, not the ground. The occluder's colours
	// are those of a fifth or more of the filled pixels: antialiasing
	// between the region and the ground is a third colour too, and
	// spreading through it would hide the region's whole outline.
	var fillLabels [256]int
	for i, v := range fill.Pix {
		if v != 0 {
			fillLabels[labels[(box.Min.Y+i/bw)*W+box.Min.X+i%bw]]++
		}
	}
	var occluding [256]bool
	for l, n := range fillLabels {
		occluding[l] = n*5 >= filled
	}
	hidden := NewMask(bw, bh)
	claimHidden := func(i int) bool {
		if hidden.Pix[i] == 0 && kind[i] == 2 && occluding[labels[(box.Min.Y+i/bw)*W+box.Min.X+i%bw]] {
			hidden.Pix[i] = 255
			return true
		}
		return false
	}
	// The filled pixels are hidden, and from them every pixel of an
	// occluding colour joined to them.
	var seeds []int
	for i, v := range fill.Pix {
		if v != 0 {
			hidden.Pix[i] = 255
			seeds = append(seeds, i)
		}
	}
	nHidden := flood4(bw, bh, seeds, claimHidden)
	if float64(nHidden) > maxOccludedShare*float64(area) {
		return Mask{}, Mask{}, false
	}
	return out, hidden, true
}

// regionGround returns the ground around a region: the commonest colour
// label other than lab among the box's pixels outside the region's row and
// column extents, and the region's area; ok is false when too little of
// the box lies outside the region to tell (a full rectangle).
func regionGround(mk Mask, box image.Rectangle, labels []uint8, W int, lab uint8) (bg, area int, ok bool) {
	bw, bh := mk.W, mk.H
	left, right := make([]int, bh), make([]int, bh)
	top, bottom := make([]int, bw), make([]int, bw)
	for y := range left {
		left[y], right[y] = bw, -1
	}
	for x := range top {
		top[x], bottom[x] = bh, -1
	}
	for y := 0; y < bh; y++ {
		row := mk.Pix[y*bw : (y+1)*bw]
		for x, v := range row {
			if v == 0 {
				continue
			}
			area++
			left[y], right[y] = min(left[y], x), max(right[y], x)
			top[x], bottom[x] = min(top[x], y), max(bottom[x], y)
		}
	}
	var counts [256]int
	outside := 0
	for y := 0; y < bh; y++ {
		for x := 0; x < bw; x++ {
			if x < left[y] || x > right[y] || y < top[x] || y > bottom[x] {
				counts[labels[(box.Min.Y+y)*W+box.Min.X+x]]++
				outside++
			}
		}
	}
	if outside < area/50 {
		return 0, area, false
	}
	// And a frame around the box: a region that is nearly its box (a
	// badge) leaves few pixels outside it, and a line of text crossing
	// its edge must not outnumber the ground there.
	H := len(labels) / W
	outer := box.Inset(-groundFrame).Intersect(image.Rect(0, 0, W, H))
	for y := outer.Min.Y; y < outer.Max.Y; y++ {
		for x := outer.Min.X; x < outer.Max.X; x++ {
			if (image.Point{x, y}).In(box) {
				x = box.Max.X - 1
				continue
			}
			counts[labels[y*W+x]]++
		}
	}
	bg, best := -1, 0
	for l, n := range counts {
		if uint8(l) != lab && n > best {
			bg, best = l, n
		}
	}
	return bg, area, true
}
