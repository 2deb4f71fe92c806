package match

import (
	"image"
	"math/bits"
)

// Pattern grounds (match-10). Merchants print art on checker, striped,
// chevron and dotted grounds, and some logos are a few plain shapes in a
// row: on issue 15's harmless designs checker grounds matched Delicious's
// four squares at 1.000, and stripes and chevrons matched Runkeeper,
// Common Workflow Language and Opera. A window of such a ground is a shape
// like any other, and the negative bank (icons) holds no grounds. But a
// ground repeats: the pixels of the region's colour around it, and the
// region itself, come back when moved by a short lattice vector, which a
// logo on its ground does not. A verified region that is a piece of such a
// periodic tiling is not reported (inPattern, Stats.Pattern, Explain
// reason "pattern").

// Pattern test parameters.
const (
	// patternGrid is the number of coarse cells along the longer side of
	// the window (the region's box grown by its longer side each way) in
	// which the colour's periodicity is measured.
	patternGrid = 64
	// patternMinShift is the shortest lattice vector, as a share of the
	// region box's longer side (any shape nearly covers itself moved by a
	// pixel).
	patternMinShift = 0.2
	// patternMaxShift bounds the lattice vector per axis as a share of the
	// box side: a region covers its own translate, so it holds more than
	// one period of the ground. A tiling of logos repeats at a logo's
	// size or more, and each of its cells is still a logo.
	patternMaxShift = 0.9
	// patternWindow is the share of the window's colour cells that the
	// lattice vector of a periodic ground moves onto the colour again,
	// within a cell (a period is rarely a whole number of cells). Art over
	// part of the ground costs agreement: a logo drawn over a checker
	// brought the checker's 0.9+ down to 0.78 next to it.
	patternWindow = 0.7
	// patternRegion is the share of the region box's colour cells that the
	// lattice vector (either way) moves onto the colour again, within a
	// cell.
	patternRegion = 0.85
	// patternContrast: some shift of the window must overlap its colour by
	// no more than this (a ground has structure; a near-uniform colour
	// with specks overlaps itself at every shift).
	patternContrast = 0.5
	// patternRing is the share of each side strip around the box that the
	// colour must cover: the ground goes on around the region on at least
	// two sides, and on all but one of those the window has.
	patternRing = 0.05
)

// segmentation is what one proposal pass segmented: the colour cluster of
// every work pixel, the alpha layer (1 where opaque, nil for an opaque
// design) and the connected components.
type segmentation struct {
	w, h   int
	labels []uint8
	alpha  []uint8
	comps  []component
}

// inPattern reports whether the region at box is a piece of a periodic
// ground of the colour of component colour (an index into seg.comps: a
// member of the region, or the component whose holes it is): the colour
// covers the window around the box on two or more sides, a lattice vector
// no longer than the box (but patternMinShift of it or more) moves the
// window's colour, and the colour inside the box, onto itself (within a
// coarse cell), and some shift does not (the colour has structure).
func inPattern(seg *segmentation, colour int32, box image.Rectangle) bool {
	if seg == nil || colour < 0 || int(colour) >= len(seg.comps) || box.Dx() < 2 || box.Dy() < 2 {
		return false
	}
	c0 := &seg.comps[colour]
	var in func(i int) bool
	switch {
	case c0.layer == 0:
		lab := c0.label
		in = func(i int) bool { return seg.labels[i] == lab }
	case seg.alpha != nil:
		in = func(i int) bool { return seg.alpha[i] != 0 }
	default:
		return false
	}
	ext := max(box.Dx(), box.Dy())
	win := box.Inset(-ext).Intersect(image.Rect(0, 0, seg.w, seg.h))
	cs := max(1, (max(win.Dx(), win.Dy())+patternGrid-1)/patternGrid)
	gw, gh := (win.Dx()+cs-1)/cs, (win.Dy()+cs-1)/cs
	g := &grid{w: gw, rows: make([]uint64, gh)}
	for gy := range gh {
		y := min(win.Min.Y+gy*cs+cs/2, win.Max.Y-1)
		for gx := range gw {
			x := min(win.Min.X+gx*cs+cs/2, win.Max.X-1)
			if in(y*seg.w + x) {
				g.rows[gy] |= 1 << gx
			}
		}
	}
	r := image.Rect((box.Min.X-win.Min.X)/cs, (box.Min.Y-win.Min.Y)/cs,
		(box.Max.X-win.Min.X+cs-1)/cs, (box.Max.Y-win.Min.Y+cs-1)/cs).Intersect(image.Rect(0, 0, gw, gh))
	if r.Dx() < 2 || r.Dy() < 2 || !g.surrounds(r) {
		return false
	}
	minS := max(2, patternMinShift*float64(max(r.Dx(), r.Dy())))
	long := func(dx, dy int) bool { return (dy > 0 || dx > 0) && float64(dx*dx+dy*dy) >= minS*minS }
	// Structure first (a ground's colour does not overlap itself at
	// every shift; usually the first shifts tell).
	structured := false
	for dy := 0; dy <= gh/2 && !structured; dy++ {
		for dx := -gw / 2; dx <= gw/2; dx++ {
			if long(dx, dy) && g.shiftIoU(dx, dy) <= patternContrast {
				structured = true
				break
			}
		}
	}
	if !structured {
		return false
	}
	d := g.dilate()
	maxX, maxY := int(patternMaxShift*float64(r.Dx())), int(patternMaxShift*float64(r.Dy()))
	for dy := 0; dy <= maxY; dy++ {
		for dx := -maxX; dx <= maxX; dx++ {
			if long(dx, dy) && g.shiftAgreement(d, dx, dy) >= patternWindow && g.repeats(d, r, dx, dy) >= patternRegion {
				return true
			}
		}
	}
	return false
}

// grid is a coarse binary image of at most 64 columns, one word per row.
type grid struct {
	w    int
	rows []uint64
}

func (g *grid) at(x, y int) bool { return g.rows[y]>>x&1 != 0 }

// surrounds reports whether the set cells go on around r: of the four
// strips beside it (left and right of r, above and below it across the
// grid) that are wide enough to tell, at least two, and all but one, are
// covered by patternRing or more.
func (g *grid) surrounds(r image.Rectangle) bool {
	h := len(g.rows)
	strips := []image.Rectangle{
		image.Rect(0, r.Min.Y, r.Min.X, r.Max.Y),
		image.Rect(r.Max.X, r.Min.Y, g.w, r.Max.Y),
		image.Rect(0, 0, g.w, r.Min.Y),
		image.Rect(0, r.Max.Y, g.w, h),
	}
	sides, covered := 0, 0
	for _, s := range strips {
		if s.Dx() < 2 || s.Dy() < 2 {
			continue
		}
		sides++
		n := 0
		for y := s.Min.Y; y < s.Max.Y; y++ {
			n += bits.OnesCount64(g.rows[y] >> s.Min.X & (1<<s.Dx() - 1))
		}
		if float64(n) >= patternRing*float64(s.Dx()*s.Dy()) {
			covered++
		}
	}
	return covered >= 2 && covered >= sides-1
}

// shiftIoU is the intersection over union of the set cells and the set
// cells moved by (dx, dy), over the cells where both are defined.
func (g *grid) shiftIoU(dx, dy int) float64 {
	h := len(g.rows)
	if abs(dx) >= g.w || dy >= h {
		return 0
	}
	keep := uint64(1)<<(g.w-abs(dx)) - 1 // columns where both are defined, counted from the lower one
	inter, union := 0, 0
	for y := 0; y+dy < h; y++ {
		a, b := g.rows[y], g.rows[y+dy]
		if dx >= 0 {
			a, b = a&keep, b>>dx&keep // cell x against cell x+dx
		} else {
			a, b = a>>-dx&keep, b&keep // cell x−dx against cell x
		}
		inter += bits.OnesCount64(a & b)
		union += bits.OnesCount64(a | b)
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// dilate returns g with every set cell's four neighbours set.
func (g *grid) dilate() *grid {
	h := len(g.rows)
	all := uint64(1)<<g.w - 1
	d := &grid{w: g.w, rows: make([]uint64, h)}
	for y, row := range g.rows {
		v := row | row<<1 | row>>1
		if y > 0 {
			v |= g.rows[y-1]
		}
		if y+1 < h {
			v |= g.rows[y+1]
		}
		d.rows[y] = v & all
	}
	return d
}

// shiftAgreement is the share of the set cells, and of the set cells moved
// by (dx, dy), that fall on or beside a set cell of the other (d is g
// dilated), over the cells where both are defined.
func (g *grid) shiftAgreement(d *grid, dx, dy int) float64 {
	h := len(g.rows)
	if abs(dx) >= g.w || dy >= h {
		return 0
	}
	keep := uint64(1)<<(g.w-abs(dx)) - 1
	agree, total := 0, 0
	for y := 0; y+dy < h; y++ {
		a, b := g.rows[y], g.rows[y+dy]
		da, db := d.rows[y], d.rows[y+dy]
		if dx >= 0 {
			a, b, da, db = a&keep, b>>dx&keep, da&keep, db>>dx&keep
		} else {
			a, b, da, db = a>>-dx&keep, b&keep, da>>-dx&keep, db&keep
		}
		agree += bits.OnesCount64(a&db) + bits.OnesCount64(b&da)
		total += bits.OnesCount64(a) + bits.OnesCount64(b)
	}
	if total == 0 {
		return 0
	}
	return float64(agree) / float64(total)
}

// repeats returns the share of the set cells inside r that (dx, dy) moves
// onto or beside set cells (d is g dilated), either way (where the moved
// cell lies in the grid).
func (g *grid) repeats(d *grid, r image.Rectangle, dx, dy int) float64 {
	h := len(g.rows)
	defined, hits := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !g.at(x, y) {
				continue
			}
			for _, s := range [2]int{1, -1} {
				nx, ny := x+s*dx, y+s*dy
				if nx < 0 || ny < 0 || nx >= g.w || ny >= h {
					continue
				}
				defined++
				if d.at(nx, ny) {
					hits++
				}
			}
		}
	}
	if defined == 0 {
		return 0
	}
	return float64(hits) / float64(defined)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Enclosed art (match-10). A region proposed with its holes filled (a logo
// drawn as an outline) covers pixels of other colours: for a logo, the
// ground it lies on, the colours around it. On eval-logos2's development
// seeds a duotone speech bubble with two lines in it matched braintrust, a
// speech bubble, at 0.99 as its filled outline: inside it lie lines of its
// own colour and a fill that is not around it. Such a region frames art;
// it is not reported (enclosesArt, Stats.Enclosed, Explain reason
// "enclosed"). The holes of a component are not judged: a logo in a
// sticker border is the border's holes, in a colour that is not around it,
// with rings of the border's colour in its counters (dev seed 101: a 6 %
// nokia wordmark was found only so).
const (
	// enclosedOwn is the share of the region's pixels that parts of its
	// own colour other than itself must cover: a logo's silhouette holds
	// none (its drawn outline is one stroke; inside it lies the ground).
	enclosedOwn = 0.02
	// enclosedMin is the share of the region's pixels that must be of
	// other colours for the test to apply (a filled component with small
	// holes is judged by its own colour).
	enclosedMin = 0.1
	// enclosedRing is the width of the band around the region's box whose
	// colours are the ground, as a share of the box's longer side (at
	// least 2 px); a colour covering less than enclosedRare of the band is
	// not the ground's.
	enclosedRing = 0.1
	enclosedRare = 0.05
	// enclosedArt is the share of the other-colour pixels that must be of
	// colours not the ground's.
	enclosedArt = 0.5
)

// enclosesArt reports whether a filled region (mask and box in seg's
// coordinates) frames art rather than lying on a ground: either it
// encloses parts of its own colour that are not the region (lines of text
// in a speech bubble: enclosedOwn of its pixels or more), or it covers
// mostly other colours than its own, and mostly colours that are rare in
// the band around its box. own is the region's colour label, self the
// component it is.
func enclosesArt(seg *segmentation, mask Mask, box image.Rectangle, own int, self int32) bool {
	if seg == nil || mask.W != box.Dx() || mask.H != box.Dy() || own < 0 || self < 0 {
		return false
	}
	var mine []bool
	if self >= 0 {
		mine = make([]bool, mask.W*mask.H)
		for _, p := range seg.comps[self].pix {
			x, y := int(p)%seg.w-box.Min.X, int(p)/seg.w-box.Min.Y
			if x >= 0 && y >= 0 && x < mask.W && y < mask.H {
				mine[y*mask.W+x] = true
			}
		}
	}
	var inside [256]int
	total, other, ownParts := 0, 0, 0
	for y := 0; y < mask.H; y++ {
		for x := 0; x < mask.W; x++ {
			i := y*mask.W + x
			if mask.Pix[i] < 128 {
				continue
			}
			total++
			l := seg.labels[(box.Min.Y+y)*seg.w+box.Min.X+x]
			switch {
			case int(l) != own:
				inside[l]++
				other++
			case mine == nil || !mine[i]:
				ownParts++
			}
		}
	}
	if total == 0 {
		return false
	}
	if float64(ownParts) >= enclosedOwn*float64(total) {
		return true
	}
	if float64(other) < enclosedMin*float64(total) {
		return false
	}
	ground, ok := groundColours(seg, box)
	if !ok {
		return false
	}
	art := 0
	for l, k := range inside {
		if k > 0 && !ground[l] {
			art += k
		}
	}
	return float64(art) >= enclosedArt*float64(other)
}
