package match

import "image"

// Text lines (match-9). A letter of a design's text is a shape like any
// other: on eval-logos2's development seeds the S and B of merchant text
// matched the single-letter logos of stripe and braintree, and glyphs of
// other fonts in the negative bank did not reproduce every typeface's S
// well enough to suppress them. A letter, though, is rarely alone: it
// sits in a line of similar glyphs of its colour, side by side at a
// letter's spacing. A verified region with such neighbours is text, not a
// mark — whatever font it is set in — and is not reported (the classic
// connected-component test of text detectors, Epshtein et al.'s stroke
// chains without the stroke widths).

// Text-line geometry, relative to the region's height h.
const (
	// lineMinH, lineMaxH bound a neighbour glyph's height (a lower-case
	// letter beside a capital is ~0.7 h, an ascender ~1.4 h).
	lineMinH, lineMaxH = 0.45, 1.6
	// lineGap is the widest horizontal gap between neighbouring glyphs
	// (letter spacing is ~0.1 h, a word space ~0.3 h).
	lineGap = 0.6
	// lineVOverlap is the share of the shorter of two neighbours' heights
	// their rows must share (same line; tolerates text turned ~20°).
	lineVOverlap = 0.5
	// lineXOverlap is the largest share of the narrower neighbour's width
	// two neighbours' columns may share (side by side, not stacked).
	lineXOverlap = 0.5
	// lineNeighbours is how many neighbours along the line make a region
	// text: two (three glyphs in a row, the region one of them).
	lineNeighbours = 2
)

// inTextLine reports whether the region at box, the union of members
// (indices into comps, all of one colour), is one glyph, or a few, of a
// line of text: at least lineNeighbours components of its colour, of
// similar height, chained to it side by side along a row. Regions that
// are not unions of components (holes) are never text here.
func inTextLine(comps []component, members []int32, box image.Rectangle) bool {
	if len(members) == 0 || box.Dy() < 4 {
		return false
	}
	h := float64(box.Dy())
	c0 := &comps[members[0]]
	in := make(map[int]bool, len(members))
	for _, i := range members {
		in[int(i)] = true
	}
	minArea := max(4, int(h*h/100))
	// The same-colour components that could be glyphs of its line.
	var sib []int
	near := box.Inset(-int(3*h + 0.5)) // a chain of 2 reaches at most ~2.2 h + 2 gaps
	for i := range comps {
		c := &comps[i]
		if in[i] || c.layer != c0.layer || c.label != c0.label || c.area < minArea || !c.box.Overlaps(near) {
			continue
		}
		if ch := float64(c.box.Dy()); ch < lineMinH*h || ch > lineMaxH*h {
			continue
		}
		sib = append(sib, i)
	}
	if len(sib) < lineNeighbours {
		return false
	}
	adjacent := func(a, b image.Rectangle) bool {
		gap := max(b.Min.X-a.Max.X, a.Min.X-b.Max.X)
		if float64(gap) > lineGap*h {
			return false
		}
		vo := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
		if float64(vo) < lineVOverlap*float64(min(a.Dy(), b.Dy())) {
			return false
		}
		xo := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
		return float64(xo) <= lineXOverlap*float64(min(a.Dx(), b.Dx()))
	}
	chain := []image.Rectangle{box}
	used := make([]bool, len(sib))
	for k := 0; k < len(chain); k++ {
		for j, i := range sib {
			if used[j] || !adjacent(chain[k], comps[i].box) {
				continue
			}
			used[j] = true
			chain = append(chain, comps[i].box)
			if len(chain)-1 >= lineNeighbours {
				return true
			}
		}
	}
	return false
}
