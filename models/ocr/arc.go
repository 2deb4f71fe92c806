package ocr

import (
	"math"
	"slices"
	"sort"

	"github.com/muster-dev/muster/internal/threshold"
)

// Tight arcs by glyph geometry (analyzer ocr-9, merged as ocr-10). A short code set over a
// large part of a small circle ("88", "ZOG", "14/88" over 60–140°) has
// letters leaning by tens of degrees either way. Detection finds it as
// one thick band whose slices' centres barely turn (the leaning letters
// fill the band top to bottom), or as square one-glyph regions, each
// cropped on its own. Neither shows the arc; the letters do: each
// letter's upright axis points at the circle's centre. So the ink of such
// regions is cut into letters, the centre is the point nearest their
// axes, and when the letters clearly stand round it (and not upright on
// a straight line) the region, or the group of one-glyph regions,
// becomes one curved region whose letters are cropped upright one by one
// and read side by side.
const (
	// arcMaxRatio: a candidate region is at most this many times longer
	// than high (a short word or code; longer lines show their arc to
	// the slices of curvedRegion).
	arcMaxRatio = 2.6
	// arcGroupRatio: a group of neighbouring candidate regions (the glyphs
	// of one code found one by one) is at most this long for its height.
	arcGroupRatio = 3.6
	// arcMinHeight is the least band height (2×half, design pixels) worth
	// fitting.
	arcMinHeight = 20
	// arcCells is how many ink-grid cells span a band's height.
	arcCells = 40
	// arcGain: the letters' axes must miss the circle's centre by less
	// than this fraction of their spread about one straight direction
	// (RMS angles, weighted).
	arcGain = 0.75
	// arcMinTurn is how far (radians) the fitted arc must turn over the
	// ink: less is read straight, as before.
	arcMinTurn = 20 * math.Pi / 180
	// arcRadiiSpread: the letters' centres are this many band heights
	// apart in distance from the fitted centre at most.
	arcRadiiSpread = 0.2
	// arcMaxGroups bounds the groups fitted per design (the largest
	// first): a texture of letter-like dots cannot make a design slow.
	arcMaxGroups = 8
)

// tightArcs replaces short, thick straight regions (and groups of
// neighbouring one-glyph regions) whose ink lies on a tight arc by one
// curved region along that arc. Other regions are returned unchanged, in
// order; the new regions follow them.
func tightArcs(src *raster, regs []region) []region {
	var cand []int
	for i, r := range regs {
		if r.curved || len(r.line) != 2 || 2*r.half < arcMinHeight {
			continue
		}
		if lineLength(r.line) < arcMaxRatio*2*r.half {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return regs
	}
	groups := arcGroups(regs, cand)
	sort.SliceStable(groups, func(i, j int) bool { return groupArea(regs, groups[i]) > groupArea(regs, groups[j]) })
	if len(groups) > arcMaxGroups {
		groups = groups[:arcMaxGroups]
	}
	replaced := make([]bool, len(regs))
	var added []region
	for _, g := range groups {
		if r, ok := fitGroup(src, regs, g); ok {
			for _, i := range g {
				replaced[i] = true
			}
			added = append(added, r)
		}
	}
	if len(added) == 0 {
		return regs
	}
	out := make([]region, 0, len(regs))
	for i, r := range regs {
		if !replaced[i] {
			out = append(out, r)
		}
	}
	return append(out, added...)
}

func groupArea(regs []region, g []int) float64 {
	var a float64
	for _, i := range g {
		a += lineLength(regs[i].line) * 2 * regs[i].half
	}
	return a
}

// axisOf is a straight region's reading axis (unit) and centre.
func axisOf(r region) (pt, pt) {
	return r.line[1].sub(r.line[0]).unit(), r.line[0].add(r.line[1]).mul(0.5)
}

// arcGroups joins candidate regions that stand side by side along their
// reading axes (similar heights, touching or nearly) into groups: the
// glyphs of a code that detection found one by one.
func arcGroups(regs []region, cand []int) [][]int {
	parent := make(map[int]int, len(cand))
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	for _, i := range cand {
		parent[i] = i
	}
	cos40 := math.Cos(40 * math.Pi / 180)
	for x, i := range cand {
		ai, ci := axisOf(regs[i])
		li, hi := lineLength(regs[i].line), regs[i].half
		for _, j := range cand[x+1:] {
			aj, cj := axisOf(regs[j])
			lj, hj := lineLength(regs[j].line), regs[j].half
			if max(hi, hj) > 1.6*min(hi, hj) {
				continue
			}
			d := cj.sub(ci)
			dist := d.norm()
			if dist > (li+lj)/2+0.25*(hi+hj) || dist == 0 {
				continue
			}
			du := d.unit()
			if math.Abs(du.dot(ai)) < cos40 || math.Abs(du.dot(aj)) < cos40 {
				continue
			}
			parent[find(i)] = find(j)
		}
	}
	byRoot := map[int][]int{}
	var roots []int
	for _, i := range cand {
		r := find(i)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], i)
	}
	var out [][]int
	for _, r := range roots {
		g := byRoot[r]
		if len(g) > 1 {
			// The group's length along its axis, for its height.
			a, _ := axisOf(regs[g[0]])
			lo, hi, half := math.Inf(1), math.Inf(-1), 0.0
			for _, i := range g {
				for _, p := range regs[i].outline() {
					lo, hi = math.Min(lo, p.dot(a)), math.Max(hi, p.dot(a))
				}
				half = math.Max(half, regs[i].half)
			}
			if hi-lo > arcGroupRatio*2*half {
				continue
			}
		}
		out = append(out, g)
	}
	return out
}

// glyphCrop is one letter's upright crop of a tight arc: the strip's
// columns start at start and run along t for w design pixels; rows run
// along the normal (t.Y, −t.X) over the region's half height either way.
type glyphCrop struct {
	start, t pt
	w        float64
	// id is the letter's number in letters, whose other letters' ink is
	// painted over with the ground.
	id      int
	letters *letterMap
}

// inkIn samples the window b on a grid of cell design pixels (2×2
// samples a cell), thresholds its luminance (Otsu) and marks the cells on
// the other side of the threshold from the window's border (the ground).
// ok is false when the window has no clear ink.
func inkIn(src *raster, b bounds, cell float64) (mask []bool, nx, ny int, bg [3]float32, ok bool) {
	nx, ny = int(math.Ceil((b.X1-b.X0)/cell)), int(math.Ceil((b.Y1-b.Y0)/cell))
	if nx < 4 || ny < 4 || nx*ny > 1<<16 {
		return nil, 0, 0, bg, false
	}
	lum := make([]float32, nx*ny)
	col := make([][3]float32, nx*ny)
	var hist [256]int
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			var s float32
			var c [3]float32
			for _, o := range [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}} {
				r, g, bl := src.bilinear(b.X0+(float64(x)+o[0])*cell, b.Y0+(float64(y)+o[1])*cell)
				s += 0.299*r + 0.587*g + 0.114*bl
				c[0], c[1], c[2] = c[0]+r/4, c[1]+g/4, c[2]+bl/4
			}
			s /= 4
			lum[y*nx+x] = s
			col[y*nx+x] = c
			hist[clampi(int(s), 0, 255)]++
		}
	}
	t := float32(threshold.Otsu(&hist))
	// The ground: the border cells' majority side.
	var above, n int
	border := func(x, y int) {
		if lum[y*nx+x] > t {
			above++
		}
		n++
	}
	for x := 0; x < nx; x++ {
		border(x, 0)
		border(x, ny-1)
	}
	for y := 1; y < ny-1; y++ {
		border(0, y)
		border(nx-1, y)
	}
	darkInk := 2*above >= n
	mask = make([]bool, nx*ny)
	var inkSum, gndSum float64
	var inkN int
	var gnd [3]float64
	for i, v := range lum {
		if (darkInk && v <= t) || (!darkInk && v > t) {
			mask[i] = true
			inkSum += float64(v)
			inkN++
		} else {
			gndSum += float64(v)
			for k := range gnd {
				gnd[k] += float64(col[i][k])
			}
		}
	}
	if inkN == 0 || inkN == len(lum) {
		return nil, 0, 0, bg, false
	}
	// Too little contrast: a photograph or a gradient, not ink.
	if math.Abs(inkSum/float64(inkN)-gndSum/float64(len(lum)-inkN)) < 40 {
		return nil, 0, 0, bg, false
	}
	for k := range bg {
		bg[k] = float32(gnd[k] / float64(len(lum)-inkN))
	}
	return mask, nx, ny, bg, true
}

// letterMap says which letter of a tight arc owns each cell of its ink
// grid (and the cells around its ink), so that a letter's crop shows its
// own ink only: the feet of a rainbow's letters (the tops of a smile's)
// crowd into the neighbouring crops.
type letterMap struct {
	b     bounds
	cell  float64
	nx    int
	ny    int
	owner []int16 // -1: nobody's
	bg    [3]float32
}

// other reports whether p lies on another letter's ink than letter id.
func (m *letterMap) other(p pt, id int) bool {
	x, y := int((p.X-m.b.X0)/m.cell), int((p.Y-m.b.Y0)/m.cell)
	if x < 0 || y < 0 || x >= m.nx || y >= m.ny {
		return false
	}
	o := m.owner[y*m.nx+x]
	return o >= 0 && int(o) != id
}

// blob is one connected piece of ink: its cells' centres (design
// pixels) and those on its edge.
type blob struct {
	pts, edge []pt
	inside    int // cells inside the group's regions
}

// blobsOf labels the 8-connected ink of a mask.
func blobsOf(mask []bool, nx, ny int, b bounds, cell float64, outlines [][]pt) []blob {
	label := make([]int32, len(mask))
	var out []blob
	var stack []int
	for i := range mask {
		if !mask[i] || label[i] != 0 {
			continue
		}
		var bl blob
		label[i] = int32(len(out) + 1)
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := k%nx, k/nx
			p := pt{b.X0 + (float64(x)+0.5)*cell, b.Y0 + (float64(y)+0.5)*cell}
			bl.pts = append(bl.pts, p)
			for _, o := range outlines {
				if inConvex(o, p) {
					bl.inside++
					break
				}
			}
			edge := false
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx2, ny2 := x+dx, y+dy
					if nx2 < 0 || ny2 < 0 || nx2 >= nx || ny2 >= ny {
						edge = true
						continue
					}
					j := ny2*nx + nx2
					if !mask[j] {
						edge = true
						continue
					}
					if label[j] == 0 {
						label[j] = int32(len(out) + 1)
						stack = append(stack, j)
					}
				}
			}
			if edge {
				bl.edge = append(bl.edge, p)
			}
		}
		out = append(out, bl)
	}
	return out
}

// arcFrame maps ink to reading coordinates around a circle: x along it
// (arc length at the ink's radius), r across it (the radius).
type arcFrame struct {
	c    pt // the circle's centre
	d0   pt // unit direction from the centre to the ink's centroid
	rbar float64
}

func (f arcFrame) coords(p pt) (x, r float64) {
	q := p.sub(f.c)
	phi := math.Atan2(f.d0.cross(q), f.d0.dot(q))
	return phi * f.rbar, q.norm()
}

// fitGroup fits a circle to the letters of a group of regions and returns
// the curved region along it, its letters cut into upright crops; ok is
// false when the letters stand as upright on a straight line (or there is
// no clear ink).
func fitGroup(src *raster, regs []region, g []int) (region, bool) {
	// The group's axis: from its first region to its last; its height:
	// the tallest region's.
	a, _ := axisOf(regs[g[0]])
	half := 0.0
	var outlines [][]pt
	var b bounds
	for k, i := range g {
		o := regs[i].outline()
		outlines = append(outlines, o)
		if k == 0 {
			b = boundsOf(o)
		} else {
			b = b.union(boundsOf(o))
		}
		half = math.Max(half, regs[i].half)
	}
	if len(g) > 1 {
		sort.Slice(g, func(x, y int) bool {
			_, cx := axisOf(regs[g[x]])
			_, cy := axisOf(regs[g[y]])
			return cx.dot(a) < cy.dot(a)
		})
		_, c0 := axisOf(regs[g[0]])
		_, c1 := axisOf(regs[g[len(g)-1]])
		a = c1.sub(c0).unit()
		if a.X < 0 {
			a = a.mul(-1)
		}
	}
	n := pt{a.Y, -a.X}
	H := 2 * half
	cell := H / arcCells
	// The window reaches half a band height past the regions: a leaning
	// letter at an end of the arc may stick out of its region's box.
	m := 0.5 * H
	win := bounds{math.Max(0, b.X0-m), math.Max(0, b.Y0-m), math.Min(float64(src.w), b.X1+m), math.Min(float64(src.h), b.Y1+m)}
	mask, nx, ny, bg, ok := inkIn(src, win, cell)
	if !ok {
		return region{}, false
	}
	// The letters: blobs a fifth of whose ink at least is inside the
	// regions (a leaning letter at an end sticks out), not specks.
	var blobs []blob
	largest := 0
	for _, bl := range blobsOf(mask, nx, ny, win, cell, outlines) {
		if 5*bl.inside >= len(bl.pts) {
			blobs = append(blobs, bl)
			largest = max(largest, len(bl.pts))
		}
	}
	blobs = slices.DeleteFunc(blobs, func(bl blob) bool { return len(bl.pts)*30 < largest })
	if len(blobs) == 0 || largest < 20 {
		return region{}, false
	}
	// Each letter's upright axis: the principal axis of its ink, trusted
	// by how elongated the letter is (an "8" or a "1" clearly, an "O"
	// hardly). On the right circle every axis passes through its centre.
	type axis struct {
		p, e pt
		w    float64
	}
	var axes []axis
	var centroid pt
	var total int
	for _, bl := range blobs {
		var m pt
		for _, p := range bl.pts {
			m = m.add(p)
		}
		centroid = centroid.add(m)
		total += len(bl.pts)
		m = m.mul(1 / float64(len(bl.pts)))
		var sxx, sxy, syy float64
		for _, p := range bl.pts {
			d := p.sub(m)
			sxx, sxy, syy = sxx+d.X*d.X, sxy+d.X*d.Y, syy+d.Y*d.Y
		}
		th := 0.5 * math.Atan2(2*sxy, sxx-syy)
		tr := sxx + syy
		disc := math.Sqrt((sxx-syy)*(sxx-syy) + 4*sxy*sxy)
		l1, l2 := (tr+disc)/2, (tr-disc)/2
		if tr <= 0 {
			continue
		}
		axes = append(axes, axis{p: m, e: pt{math.Cos(th), math.Sin(th)}, w: float64(len(bl.pts)) * (l1 - l2) / (l1 + l2)})
	}
	centroid = centroid.mul(1 / float64(total))
	if len(axes) < 2 {
		return region{}, false
	}
	// Least squares: the point nearest every axis line, weighted; twice,
	// the second time without a letter whose axis misses the first point
	// by far (a slash, a hyphen).
	solve := func(use []bool) (pt, bool) {
		var a11, a12, a22, b1, b2 float64
		for i, ax := range axes {
			if !use[i] {
				continue
			}
			q := pt{-ax.e.Y, ax.e.X}
			k := q.dot(ax.p)
			a11, a12, a22 = a11+ax.w*q.X*q.X, a12+ax.w*q.X*q.Y, a22+ax.w*q.Y*q.Y
			b1, b2 = b1+ax.w*q.X*k, b2+ax.w*q.Y*k
		}
		det := a11*a22 - a12*a12
		if tr := a11 + a22; tr <= 0 || det < 1e-3*tr*tr {
			return pt{}, false
		}
		return pt{(b1*a22 - b2*a12) / det, (a11*b2 - a12*b1) / det}, true
	}
	use := make([]bool, len(axes))
	for i := range use {
		use[i] = true
	}
	c, ok := solve(use)
	if !ok {
		return region{}, false
	}
	// residual is the angle between a letter's axis and the direction
	// from the centre.
	residual := func(ax axis, c pt) float64 {
		d := ax.p.sub(c).unit()
		return math.Acos(math.Min(1, math.Abs(d.dot(ax.e))))
	}
	if len(axes) >= 4 {
		worst, wi := 0.0, -1
		for i, ax := range axes {
			if r := residual(ax, c); r > worst {
				worst, wi = r, i
			}
		}
		if worst > 15*math.Pi/180 {
			use[wi] = false
			if c2, ok := solve(use); ok {
				c = c2
			}
		}
	}
	// Against a straight line: the axes' spread about their mean
	// direction (weighted); on the circle, about the directions from the
	// centre.
	var ws, circ, sx, sy float64
	for i, ax := range axes {
		if !use[i] {
			continue
		}
		e := ax.e
		if e.dot(n) < 0 {
			e = e.mul(-1)
		}
		ws += ax.w
		r := residual(ax, c)
		circ += ax.w * r * r
		// Mean direction by doubled angles.
		sx, sy = sx+ax.w*(e.X*e.X-e.Y*e.Y), sy+ax.w*2*e.X*e.Y
	}
	mean := 0.5 * math.Atan2(sy, sx)
	me := pt{math.Cos(mean), math.Sin(mean)}
	var str float64
	for i, ax := range axes {
		if !use[i] {
			continue
		}
		r := math.Acos(math.Min(1, math.Abs(me.dot(ax.e))))
		str += ax.w * r * r
	}
	circRMS, strRMS := math.Sqrt(circ/ws), math.Sqrt(str/ws)
	dist := c.dist(centroid)
	// The letters stand on the circle: their centres about as far from
	// its centre (a word in a slanted font on a wide arc has its axes
	// meet nearby, but its letters are not around that point).
	rmin, rmax := math.Inf(1), math.Inf(-1)
	for i, ax := range axes {
		if use[i] {
			d := ax.p.dist(c)
			rmin, rmax = math.Min(rmin, d), math.Max(rmax, d)
		}
	}
	if strRMS < 8*math.Pi/180 || circRMS > arcGain*strRMS || circRMS > 8*math.Pi/180 || dist > 8*H || dist < 0.3*H || rmax-rmin > arcRadiiSpread*H {
		return region{}, false
	}
	d := centroid.sub(c)
	f := arcFrame{c: c, d0: d.unit(), rbar: d.norm()}
	return arcRegion(f, blobs, a, H, &letterMap{b: win, cell: cell, nx: nx, ny: ny, bg: bg}, regs, g)
}

// letter is one letter (or a piece of merged ink) on the fitted circle.
type letter struct {
	theta  float64 // angle from the frame's d0
	pts    []pt
	r0, r1 float64
	blob   int // the blob it is (a piece of)
}

// arcRegion builds the curved region of a fitted group: its letters in
// reading order, each cropped upright around its own angle.
func arcRegion(f arcFrame, blobs []blob, a pt, H float64, lm *letterMap, regs []region, g []int) (region, bool) {
	var ls []letter
	for k, bl := range blobs {
		var x0, x1 float64 = math.Inf(1), math.Inf(-1)
		l := letter{pts: bl.pts, r0: math.Inf(1), r1: math.Inf(-1), blob: k}
		for _, p := range bl.pts {
			x, r := f.coords(p)
			x0, x1 = math.Min(x0, x), math.Max(x1, x)
			l.r0, l.r1 = math.Min(l.r0, r), math.Max(l.r1, r)
		}
		l.theta = (x0 + x1) / 2 / f.rbar
		ls = append(ls, l)
	}
	// The band: from the lowest foot to the highest top of the full-height
	// letters (not a hyphen), so that a "b"'s ascender and a "g"'s
	// descender are both in it.
	tallest := 0.0
	for _, l := range ls {
		tallest = math.Max(tallest, l.r1-l.r0)
	}
	rlo, rhi := math.Inf(1), math.Inf(-1)
	for _, l := range ls {
		if l.r1-l.r0 >= 0.6*tallest {
			rlo, rhi = math.Min(rlo, l.r0), math.Max(rhi, l.r1)
		}
	}
	ht := rhi - rlo
	if ht <= 0 {
		return region{}, false
	}
	rmid := (rlo + rhi) / 2
	// Touching letters (a blob wider than 1.2 text heights) are cut where
	// their ink along the arc is thinnest.
	ls = splitWide(f, ls, rmid, ht)
	sort.Slice(ls, func(i, j int) bool { return ls[i].theta < ls[j].theta })
	turn := ls[len(ls)-1].theta - ls[0].theta
	if turn < arcMinTurn {
		return region{}, false
	}
	base := math.Atan2(f.d0.Y, f.d0.X)
	// Each letter's frame: centred on the circle of mid height at its
	// angle, tangent t (in increasing angle), its extent along t.
	type crop struct {
		q, t   pt
		u0, u1 float64
		letter int
	}
	crops := make([]crop, len(ls))
	for i, l := range ls {
		u := pt{math.Cos(base + l.theta), math.Sin(base + l.theta)}
		t := pt{-u.Y, u.X}
		c := crop{q: f.c.add(u.mul(rmid)), t: t, u0: math.Inf(1), u1: math.Inf(-1), letter: i}
		for _, p := range l.pts {
			v := p.sub(c.q).dot(t)
			c.u0, c.u1 = math.Min(c.u0, v), math.Max(c.u1, v)
		}
		crops[i] = c
	}
	// Reading order: along a; the normal must point from the foot to the
	// top (away from the centre on a rainbow, towards it on a smile).
	reverse := crops[len(crops)-1].q.sub(crops[0].q).dot(a) < 0
	if reverse {
		for i, j := 0, len(crops)-1; i < j; i, j = i+1, j-1 {
			crops[i], crops[j] = crops[j], crops[i]
		}
		for i := range crops {
			crops[i].t = crops[i].t.mul(-1)
			crops[i].u0, crops[i].u1 = -crops[i].u1, -crops[i].u0
		}
	}
	// Turned to read along a, each crop's normal (t.Y, −t.X) points
	// away from the centre on a rainbow and towards it on a smile: to the
	// letters' tops either way.
	pad := 0.2 * ht
	gaps := make([]float64, len(crops)-1)
	for i := range gaps {
		a, b := crops[i], crops[i+1]
		gaps[i] = gapBetween(a.q, a.t, a.u1, b.q, b.t, b.u0)
	}
	space := letterSpaces(gaps, ht)
	glyphs := make([]glyphCrop, len(crops))
	for i, c := range crops {
		lo, hi := c.u0, c.u1
		if i == 0 {
			lo -= pad
		} else {
			lo -= space[i-1] / 2
		}
		if i == len(crops)-1 {
			hi += pad
		} else {
			hi += space[i] / 2
		}
		glyphs[i] = glyphCrop{start: c.q.add(c.t.mul(lo)), t: c.t, w: hi - lo, id: ls[c.letter].blob, letters: lm}
	}
	// Which blob owns which ink (and the cells around it): the pieces of
	// one blob (letters that touch) do not hide each other.
	lm.owner = make([]int16, lm.nx*lm.ny)
	for i := range lm.owner {
		lm.owner[i] = -1
	}
	cellOf := func(p pt) (int, int) {
		return int((p.X - lm.b.X0) / lm.cell), int((p.Y - lm.b.Y0) / lm.cell)
	}
	for _, ring := range []bool{false, true} {
		for _, l := range crops {
			id := int16(ls[l.letter].blob)
			for _, p := range ls[l.letter].pts {
				x, y := cellOf(p)
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						if (dx != 0 || dy != 0) != ring {
							continue
						}
						xx, yy := x+dx, y+dy
						if xx < 0 || yy < 0 || xx >= lm.nx || yy >= lm.ny || lm.owner[yy*lm.nx+xx] >= 0 {
							continue
						}
						lm.owner[yy*lm.nx+xx] = id
					}
				}
			}
		}
	}
	// The outline: the arc at mid height over the crops.
	first, last := glyphs[0], glyphs[len(glyphs)-1]
	line := []pt{first.start}
	for _, gc := range glyphs {
		line = append(line, gc.start.add(gc.t.mul(gc.w/2)))
	}
	line = append(line, last.start.add(last.t.mul(last.w)))
	var score float64
	for _, i := range g {
		score += regs[i].score
	}
	return region{line: line, half: 0.5 * ht * 1.35, score: score / float64(len(g)), curved: true, glyphs: glyphs}, true
}

// letterSpaces is the space put between neighbouring glyph crops, given
// the gaps between their letters on the arc (ht: the text height). A gap
// is a word space only when it is both wide (over half a text height) and
// well over the code's usual letter gap (twice the median); it keeps up to
// a text height. Every other gap is spacing inside a word and is put at
// most 0.3 text heights wide, less than the recogniser reads as a space:
// a narrow "1" stands further from its neighbour's ink on a tight arc
// than the font spaced it, and "14" read "1 4" is no longer the code.
func letterSpaces(gaps []float64, ht float64) []float64 {
	med := 0.0
	if len(gaps) > 0 {
		sorted := slices.Clone(gaps)
		slices.Sort(sorted)
		med = sorted[len(sorted)/2]
	}
	out := make([]float64, len(gaps))
	for i, g := range gaps {
		if g > 0.5*ht && g > 2*med {
			out[i] = clampf(g, 0.06*ht, ht)
			continue
		}
		out[i] = clampf(g, 0.06*ht, 0.3*ht)
	}
	return out
}

// gapBetween is the space between a letter ending at u1 along t from q
// and the next starting at u0 along t2 from q2: the distance between
// their ends, counted negative when they overlap.
func gapBetween(q, t pt, u1 float64, q2, t2 pt, u0 float64) float64 {
	end := q.add(t.mul(u1))
	start := q2.add(t2.mul(u0))
	d := start.sub(end)
	mid := t.add(t2).unit()
	return d.dot(mid)
}

func clampf(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }

// splitWide cuts letters wider than 1.2 text heights along the arc (ink
// of several letters that touch) where their ink is thinnest, or evenly
// when it is nowhere thin.
func splitWide(f arcFrame, ls []letter, rmid, ht float64) []letter {
	var out []letter
	for _, l := range ls {
		out = append(out, splitLetter(f, l, rmid, ht, 0)...)
	}
	return out
}

func splitLetter(f arcFrame, l letter, rmid, ht float64, depth int) []letter {
	phis := make([]float64, len(l.pts))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, p := range l.pts {
		x, _ := f.coords(p)
		phis[i] = x / f.rbar
		lo, hi = math.Min(lo, phis[i]), math.Max(hi, phis[i])
	}
	width := (hi - lo) * rmid
	if width <= 1.2*ht || depth >= 3 {
		return []letter{l}
	}
	// Ink per slice of 0.05 text heights along the arc.
	bin := 0.05 * ht / rmid
	nb := int((hi-lo)/bin) + 1
	prof := make([]float64, nb)
	for _, phi := range phis {
		prof[int((phi-lo)/bin)]++
	}
	cut := -1
	bestV := math.Inf(1)
	for b := nb / 5; b < nb-nb/5; b++ {
		v := (prof[max(b-1, 0)] + 2*prof[b] + prof[min(b+1, nb-1)]) / 4
		if v < bestV {
			bestV, cut = v, b
		}
	}
	if cut < 0 {
		return []letter{l}
	}
	split := lo + (float64(cut)+0.5)*bin
	var a, b letter
	for i, p := range l.pts {
		if phis[i] < split {
			a.pts = append(a.pts, p)
		} else {
			b.pts = append(b.pts, p)
		}
	}
	var out []letter
	for _, part := range []letter{a, b} {
		if len(part.pts) == 0 {
			continue
		}
		x0, x1 := math.Inf(1), math.Inf(-1)
		for _, p := range part.pts {
			x, _ := f.coords(p)
			x0, x1 = math.Min(x0, x), math.Max(x1, x)
		}
		part.theta = (x0 + x1) / 2 / f.rbar
		out = append(out, splitLetter(f, part, rmid, ht, depth+1)...)
	}
	return out
}
