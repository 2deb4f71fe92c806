package match

import (
	"fmt"
	"image"
)

// Evidence beyond the shape (match-11). A verified shape can be an exact
// coincidence: a speech bubble is braintrust's silhouette, a steering
// wheel or an emoji's hair frame another mark's. What the shape does not
// carry is measured here, for regions about to be reported: what fills
// the region's counters (a logo's counters show the ground it lies on; a
// frame's show the art it frames), and how large the region is.

// counters returns the region's enclosed pixels — not the region, and not
// 4-connected to the border of its box through pixels that are not the
// region — as a mask of mask's size, and their number.
func counters(mask Mask) ([]bool, int) {
	bw, bh := mask.W, mask.H
	out := make([]bool, bw*bh)
	if bw < 3 || bh < 3 {
		return out, 0
	}
	outside := make([]bool, bw*bh)
	stack := make([]int, 0, 2*(bw+bh))
	push := func(i int) {
		if mask.Pix[i] < 128 && !outside[i] {
			outside[i] = true
			stack = append(stack, i)
		}
	}
	for x := 0; x < bw; x++ {
		push(x)
		push((bh-1)*bw + x)
	}
	for y := 0; y < bh; y++ {
		push(y * bw)
		push(y*bw + bw - 1)
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%bw, i/bw
		if x > 0 {
			push(i - 1)
		}
		if x < bw-1 {
			push(i + 1)
		}
		if y > 0 {
			push(i - bw)
		}
		if y < bh-1 {
			push(i + bw)
		}
	}
	n := 0
	for i, p := range mask.Pix {
		if p < 128 && !outside[i] {
			out[i] = true
			n++
		}
	}
	return out, n
}

// groundColours returns, per colour label of seg, whether the label covers
// enclosedRare or more of the band around box (enclosedRing of its longer
// side wide, at least 2 px): the colours of the ground the region lies on.
// ok is false when the band lies outside the image.
func groundColours(seg *segmentation, box image.Rectangle) (ground [256]bool, ok bool) {
	band := max(2, int(enclosedRing*float64(max(box.Dx(), box.Dy()))+0.5))
	outer := box.Inset(-band).Intersect(image.Rect(0, 0, seg.w, seg.h))
	var ring [256]int
	n := 0
	for y := outer.Min.Y; y < outer.Max.Y; y++ {
		for x := outer.Min.X; x < outer.Max.X; x++ {
			if (image.Point{x, y}).In(box) {
				x = box.Max.X - 1 // skip the box
				continue
			}
			ring[seg.labels[y*seg.w+x]]++
			n++
		}
	}
	if n == 0 {
		return ground, false
	}
	for l, k := range ring {
		ground[l] = k > 0 && float64(k) >= enclosedRare*float64(n)
	}
	return ground, true
}

// regionEvidence is what a region shows beyond its shape.
type regionEvidence struct {
	// counterShare is the share of the region's box that its counters
	// (enclosed pixels that are not the region) cover.
	counterShare float64
	// counterArt is the share of those counter pixels whose colour is not
	// a colour of the ground around the box (0 without counters).
	counterArt float64
	// boxArt is the share of the box's pixels outside the region and its
	// counters (its concavities) whose colour is not the ground's.
	boxArt float64
	// rel is the region's longer side as a share of its pass's work image's
	// longer side; side is that longer side in design pixels.
	rel  float64
	side int
}

// evidence measures c's region (its mask and box in its pass's
// segmentation) beyond its shape; scale is design pixels per pass pixel.
func (c *candidate) evidence(scale float64) regionEvidence {
	var e regionEvidence
	if c.seg == nil || c.mask.W != c.box.Dx() || c.mask.H != c.box.Dy() {
		return e
	}
	seg := c.seg
	e.rel = float64(max(c.box.Dx(), c.box.Dy())) / float64(max(seg.w, seg.h))
	e.side = int(float64(max(c.box.Dx(), c.box.Dy()))*scale + 0.5)
	ground, ok := groundColours(seg, c.box)
	if !ok {
		return e
	}
	in, n := counters(c.mask)
	art, outside, outsideArt := 0, 0, 0
	for y := 0; y < c.mask.H; y++ {
		row := (c.box.Min.Y+y)*seg.w + c.box.Min.X
		for x := 0; x < c.mask.W; x++ {
			i := y*c.mask.W + x
			if c.mask.Pix[i] >= 128 {
				continue
			}
			g := ground[seg.labels[row+x]]
			if in[i] {
				if !g {
					art++
				}
				continue
			}
			outside++
			if !g {
				outsideArt++
			}
		}
	}
	e.counterShare = float64(n) / float64(c.mask.W*c.mask.H)
	if n > 0 {
		e.counterArt = float64(art) / float64(n)
	}
	if outside > 0 {
		e.boxArt = float64(outsideArt) / float64(outside)
	}
	return e
}

// kind names the region's proposal: single, group, holes, filled,
// completed, with "detail-" for the detail pass.
func (c *candidate) kind() string {
	k := "group"
	switch {
	case c.inverted:
		k = "holes"
	case c.filled:
		k = "filled"
	case c.occluded.W > 0:
		k = "completed"
	case len(c.members) == 1:
		k = "single"
	}
	if c.detail {
		k = "detail-" + k
	}
	return k
}

// diagnostics describes a reported match's evidence for evaluations
// (Match.Diagnostics).
func diagnostics(c *candidate, r *reference, e regionEvidence, neg float64, similar int) string {
	return fmt.Sprintf("kind=%s info=%.0f dense=%v thin=%v negref=%.3f negreg=%.3f similar=%d rel=%.3f side=%d counters=%.3f counterart=%.2f boxart=%.2f",
		c.kind(), r.info, r.dense, r.thin, r.negScore, neg, similar, e.rel, e.side, e.counterShare, e.counterArt, e.boxArt)
}
