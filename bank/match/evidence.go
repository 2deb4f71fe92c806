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
	claim := func(i int) bool {
		if mask.Pix[i] < 128 && !outside[i] {
			outside[i] = true
			return true
		}
		return false
	}
	flood4(bw, bh, borderSeeds(bw, bh, claim), claim)
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

// evidence measures (once) c's region (its mask and box in its pass's
// segmentation) beyond its shape.
func (c *candidate) evidence() regionEvidence {
	if !c.evDone {
		c.ev, c.evDone = c.measureEvidence(), true
	}
	return c.ev
}

func (c *candidate) measureEvidence() regionEvidence {
	var e regionEvidence
	if c.seg == nil || c.mask.W != c.box.Dx() || c.mask.H != c.box.Dy() {
		return e
	}
	scale := c.scale
	if scale <= 0 {
		scale = 1
	}
	seg := c.seg
	e.rel = float64(max(c.box.Dx(), c.box.Dy())) / float64(max(seg.w, seg.h))
	e.side = int(float64(max(c.box.Dx(), c.box.Dy()))*scale + 0.5)
	ground, ok := groundColours(seg, c.box)
	if !ok {
		return e
	}
	// A completed region is judged by the pixels seen: what was filled
	// back under an occluder is not the region's.
	seen := c.mask
	if c.occluded.W == c.mask.W && c.occluded.H == c.mask.H {
		seen = NewMask(c.mask.W, c.mask.H)
		for i, p := range c.mask.Pix {
			if p >= 128 && c.occluded.Pix[i] < 128 {
				seen.Pix[i] = 255
			}
		}
	}
	in, n := counters(seen)
	art, outside, outsideArt := 0, 0, 0
	for y := 0; y < seen.H; y++ {
		row := (c.box.Min.Y+y)*seg.w + c.box.Min.X
		for x := 0; x < seen.W; x++ {
			i := y*seen.W + x
			if seen.Pix[i] >= 128 {
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
	return fmt.Sprintf("kind=%s info=%.0f dense=%v thin=%v negref=%.3f negreg=%.3f similar=%d rel=%.3f side=%d counters=%.3f counterart=%.2f boxart=%.2f hostparts=%.3f hidden=%.3f spill=%.3f",
		c.kind(), r.info, r.dense, r.thin, r.negScore, neg, similar, e.rel, e.side, e.counterShare, e.counterArt, e.boxArt, c.hostParts(), c.hiddenShare(), c.hiddenSpill())
}

// Evidence rules (match-11). A simple reference — one whose outline
// information earns no relief (under reliefFrom: a speech bubble, a
// cube, a plain badge) — is a shape ordinary art draws too, and its
// verified matches on eval-logos2's development seeds were exact
// coincidences at outline 1.000 (a chat bubble as braintrust, an emoji's
// hair as codesandbox). For those references the region must also look
// like a mark where the shape says nothing, inside it:
//
//   - the holes of a component (a mark knocked out of a fill, or the
//     inside of a sticker border) must not hold other parts of the
//     component's colour: a bubble's lines or dots are drawn in its
//     border's colour, a knocked-out mark's inside is the ground
//     (enclosedOwn of the region's pixels, as enclosesArt judges filled
//     outlines);
//   - a region's counters (enclosed pixels that are not the region) must
//     show the ground around it, not art: counters covering counterMin of
//     the box or more, counterArtMax of them or more of colours not the
//     ground's, are a frame round a picture (the hair round a face);
//   - a small region (under smallRel of the trimmed design's longer side:
//     a detail of the art, where hearts, rings and bubbles are common)
//     needs smallScore, more than the threshold;
//   - a region that a shape of the negative bank verifies on at the
//     reference's threshold is explained as well by a non-mark shape
//     (Find drops a match only when the negative shape scores at least
//     as high; for a simple reference either explanation is as likely).
//
// Distinctive references (wordmarks, emblems) are not judged: their
// counters hold sticker borders, shadows and text across them (on the
// development seeds 5 of 6 right findings with art-filled counters were
// of such references, and the holes rule lost sticker-border `nokia` and
// `render` in match-10's trial).
const (
	counterMin    = 0.2
	counterArtMax = 0.5
	smallRel      = 0.15
	smallScore    = 0.99
)

// Reasons a verified region lacks evidence (Stats.Context, Explain
// reason "context").
const (
	lackCounters  = "counters"
	lackHoleParts = "hole-parts"
	lackSmall     = "small"
	lackNegative  = "negative"
	lackPart      = "part"
)

// lacksEvidence returns why a verified, non-protected match of r on c at
// outline score edgeF should not be reported for want of evidence beyond
// the shape, or "". neg returns the negative bank's best score for the
// region (computed once, on demand; -1 without a negative bank).
func (m *Matcher) lacksEvidence(c *candidate, r *reference, edgeF float64, neg func() float64) string {
	if m.cfg.NoEvidence || r.info >= reliefFrom {
		return ""
	}
	if c.holesHoldHostParts() {
		return lackHoleParts
	}
	if c.partOfArrangement() {
		return lackPart
	}
	e := c.evidence()
	if e.counterShare >= counterMin && e.counterArt >= counterArtMax {
		return lackCounters
	}
	if e.rel < smallRel && edgeF < max(smallScore, m.baseThreshold(r)) {
		return lackSmall
	}
	if neg() >= m.baseThreshold(r) {
		return lackNegative
	}
	return ""
}

// holesHoldHostParts reports whether a holes region holds pixels of its
// host component's colour (other parts of that colour: the host's own
// pixels are not in its holes) on enclosedOwn of its pixels or more.
// Only colour layers are judged.
func (c *candidate) holesHoldHostParts() bool {
	return c.hostParts() >= enclosedOwn
}

// hostParts is the share of a holes region's pixels of its host's colour
// (0 for other regions, and for hosts of the alpha layer).
func (c *candidate) hostParts() float64 {
	seg := c.seg
	if !c.inverted || !c.hasHost || seg == nil || int(c.host) >= len(seg.comps) || c.mask.W != c.box.Dx() || c.mask.H != c.box.Dy() {
		return 0
	}
	host := &seg.comps[c.host]
	if host.layer != 0 {
		return 0
	}
	total, own := 0, 0
	for y := 0; y < c.mask.H; y++ {
		row := (c.box.Min.Y+y)*seg.w + c.box.Min.X
		for x := 0; x < c.mask.W; x++ {
			if c.mask.Pix[y*c.mask.W+x] < 128 {
				continue
			}
			total++
			if seg.labels[row+x] == host.label {
				own++
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(own) / float64(total)
}

// hiddenShare is a completed region's hidden pixels (filled back under an
// occluder, or of the occluder's colours joined to it; completeRuns) as a
// share of its pixels, 0 for other regions.
func (c *candidate) hiddenShare() float64 {
	if c.occluded.W != c.mask.W || c.occluded.H != c.mask.H || len(c.mask.Pix) == 0 {
		return 0
	}
	area, hidden := 0, 0
	for i, p := range c.mask.Pix {
		if p >= 128 {
			area++
		}
		if c.occluded.Pix[i] >= 128 {
			hidden++
		}
	}
	if area == 0 {
		return 0
	}
	return float64(hidden) / float64(area)
}

// hiddenSpill is the share of a completed region's hidden pixels that lie
// outside its completed silhouette (an occluder crossing the region's
// edge), 0 for other regions.
func (c *candidate) hiddenSpill() float64 {
	if c.occluded.W != c.mask.W || c.occluded.H != c.mask.H {
		return 0
	}
	hidden, out := 0, 0
	for i, p := range c.occluded.Pix {
		if p < 128 {
			continue
		}
		hidden++
		if c.mask.Pix[i] < 128 {
			out++
		}
	}
	if hidden == 0 {
		return 0
	}
	return float64(out) / float64(hidden)
}

// partNeighbour is how large (a share of the smallest member's area) a
// component of a group's colour must be to count as another part of the
// arrangement the group is cut from (partOfArrangement).
const partNeighbour = 0.5

// partOfArrangement reports whether a group region (two or more
// components) is some of the parts of a larger arrangement of its colour
// (match-14): another component of the colour, at least partNeighbour of
// the smallest member's area, lies as near the group as its own members
// lie to each other (the largest gap of their single linkage, at least
// 2 px) or encloses it. Two discs of asana's three, or slideshare's two
// heads above its body, are flickr's two discs; the two lines inside a
// bubble drawn in their colour are elevenlabs' two bars (dev seed 104;
// the bubble as docs/bank.md describes dev seed 101's). A mark drawn in
// parts stands apart from the other art of its colour by more than the
// gaps between its parts.
func (c *candidate) partOfArrangement() bool {
	if len(c.members) < 2 || len(c.comps) == 0 {
		return false
	}
	comps := c.comps
	c0 := &comps[c.members[0]]
	smallest := c0.area
	for _, i := range c.members {
		smallest = min(smallest, comps[i].area)
	}
	// The largest gap of the members' single linkage (Prim's algorithm on
	// box distances).
	n := len(c.members)
	in := make([]bool, n)
	dist := make([]int, n)
	for i := range dist {
		dist[i] = boxGap(comps[c.members[0]].box, comps[c.members[i]].box)
	}
	in[0] = true
	link := 0
	for k := 1; k < n; k++ {
		next := -1
		for i := range dist {
			if !in[i] && (next < 0 || dist[i] < dist[next]) {
				next = i
			}
		}
		in[next] = true
		link = max(link, dist[next])
		for i := range dist {
			if !in[i] {
				dist[i] = min(dist[i], boxGap(comps[c.members[next]].box, comps[c.members[i]].box))
			}
		}
	}
	link = max(link, 2)
	member := make(map[int32]bool, n)
	for _, i := range c.members {
		member[i] = true
	}
	for j := range comps {
		o := &comps[j]
		if member[int32(j)] || o.layer != c0.layer || o.label != c0.label || float64(o.area) < partNeighbour*float64(smallest) {
			continue
		}
		if c.seg != nil && o.box.Dx() >= c.seg.w*9/10 && o.box.Dy() >= c.seg.h*9/10 {
			continue // the ground
		}
		for _, i := range c.members {
			if boxGap(o.box, comps[i].box) <= link {
				return true
			}
		}
	}
	return false
}

// boxGap is the gap between two boxes: the larger of their horizontal and
// vertical distances (0 when they overlap), as proximity groups measure.
func boxGap(a, b image.Rectangle) int {
	dx := max(0, a.Min.X-b.Max.X, b.Min.X-a.Max.X)
	dy := max(0, a.Min.Y-b.Max.Y, b.Min.Y-a.Max.Y)
	return max(dx, dy)
}
