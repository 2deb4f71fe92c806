package match

import "math/bits"

// Occlusion (match-8). Text across a logo, or art laid over it, cuts the
// logo's colour region: the region's shape is the logo less the occluder,
// its hash lies far from the logo's and its outline gains the occluder's
// edges. The region is also proposed with the occluded pixels filled back
// (match-8: the pixels of a third colour that the region encloses along
// their row and their column; match-11: runs of them, completeRuns in
// occlusion_runs.go), remembering the hidden pixels: verification then scores the shapes only where the
// region was seen (similarityMasked), and only distinctive references
// (outline information ≥ reliefFrom) may match, at the full threshold.

// Bounds on the share of a region's pixels that may be filled back (at
// least) and hidden (at most).
const (
	minOccludedShare = 0.015
	maxOccludedShare = 0.5
	// maxOccludedRef is the largest share of the reference's template that
	// may lie under the occluder for a match: the rest must match as it is.
	maxOccludedRef = 0.3
)

// occlusionTemplate maps the filled pixels of a completed region into its
// template frame (the completed mask's tight box stretched to the
// template), marking every template pixel any filled pixel touches, grown
// by a pixel: the occluder's edges are not the logo's.
func occlusionTemplate(completed, fill Mask) template {
	var t template
	b := completed.Bounds(128)
	if b.Empty() {
		return t
	}
	sx := float64(tmplSize) / float64(b.Dx())
	sy := float64(tmplSize) / float64(b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if fill.Pix[y*fill.W+x] == 0 {
				continue
			}
			x0, x1 := int(float64(x-b.Min.X)*sx), int(float64(x-b.Min.X+1)*sx-1e-9)
			y0, y1 := int(float64(y-b.Min.Y)*sy), int(float64(y-b.Min.Y+1)*sy-1e-9)
			for ty := max(0, y0); ty <= min(tmplSize-1, y1); ty++ {
				for tx := max(0, x0); tx <= min(tmplSize-1, x1); tx++ {
					t[ty] |= 1 << tx
				}
			}
		}
	}
	return t.dilate()
}

// similarityMasked is similarityTol scored only outside the hidden pixels:
// the shapes' IoU, tolerant overlap and outline F-score count no pixel of
// hidden (the occluder, in the query's frame), and the reference (shifted)
// may have at most maxOccludedRef of its pixels hidden. The query q is the
// completed region.
func similarityMasked(q, r, hidden *template, maxShift int) (iou, tolIoU, edgeF float64) {
	var seen template
	for y := range seen {
		seen[y] = ^hidden[y] & rowMask
	}
	nq := 0
	for y := range q {
		nq += bits.OnesCount64(q[y] & seen[y])
	}
	if nq == 0 || r.count() == 0 {
		return 0, 0, 0
	}
	qd := q.dilate()
	qe := q.boundary()
	qed := qe.dilate()
	re := r.boundary()
	red := re.dilate()
	neq := 0
	for y := range qe {
		neq += bits.OnesCount64(qe[y] & seen[y])
	}
	for dy := -maxShift; dy <= maxShift; dy++ {
		for dx := -maxShift; dx <= maxShift; dx++ {
			rs := shifted(r, dx, dy)
			rsd := rs.dilate()
			var inter, union, qIn, rIn, nr, rHidden int
			for y := 0; y < tmplSize; y++ {
				s := seen[y]
				inter += bits.OnesCount64(q[y] & rs[y] & s)
				union += bits.OnesCount64((q[y] | rs[y]) & s)
				qIn += bits.OnesCount64(q[y] & rsd[y] & s)
				rIn += bits.OnesCount64(rs[y] & qd[y] & s)
				nr += bits.OnesCount64(rs[y] & s)
				rHidden += bits.OnesCount64(rs[y] &^ s)
			}
			if nr == 0 || float64(rHidden) > maxOccludedRef*float64(nr+rHidden) {
				continue
			}
			if u := float64(inter) / float64(union); u > iou {
				iou = u
			}
			if t := min(float64(qIn)/float64(nq), float64(rIn)/float64(nr)); t > tolIoU {
				tolIoU = t
			}
			res := shifted(&re, dx, dy)
			resd := shifted(&red, dx, dy)
			var qHit, rHit, ner int
			for y := 0; y < tmplSize; y++ {
				s := seen[y]
				qHit += bits.OnesCount64(qe[y] & resd[y] & s)
				rHit += bits.OnesCount64(res[y] & qed[y] & s)
				ner += bits.OnesCount64(res[y] & s)
			}
			if neq == 0 || ner == 0 {
				continue
			}
			p := float64(qHit) / float64(neq)
			rc := float64(rHit) / float64(ner)
			if p+rc > 0 {
				if f := 2 * p * rc / (p + rc); f > edgeF {
					edgeF = f
				}
			}
		}
	}
	return iou, tolIoU, edgeF
}
