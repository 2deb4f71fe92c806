package ocr

import (
	"image"
	"math"
	"sort"
)

// DB post-processing defaults: PaddleOCR's inference settings
// (tools/infer/utility.py: det_db_thresh 0.3, det_db_box_thresh 0.6,
// max_candidates 1000, min_size 3), except the unclip ratio: 2.0 instead
// of det_db_unclip_ratio 1.5, which cut the top and bottom off large
// letters (docs/ocr.md).
const (
	defaultBinThresh   = 0.3
	defaultBoxThresh   = 0.6
	defaultUnclipRatio = 2.0
	maxCandidates      = 1000
	minSize            = 3
)

// detInput converts RGB values (interleaved, 0..255) to the detection
// model's input: BGR planes normalised with ImageNet's mean and std
// (PaddleOCR's NormalizeImage applied to a cv2 BGR image: mean[0] goes
// with the blue plane). The output comes from bufs (every value written).
func detInput(rgb []float32, w, h, par int, bufs *floatBufs) []float32 {
	mean := [3]float32{0.485, 0.456, 0.406}
	std := [3]float32{0.229, 0.224, 0.225}
	// (v/255 − mean)/std as one multiply-add per value.
	var k, c [3]float32
	for i := range k {
		k[i] = 1 / (255 * std[i])
		c[i] = -mean[i] / std[i]
	}
	plane := w * h
	out := bufs.get(3*plane, false)
	bp, gp, rp := out[:plane], out[plane:2*plane], out[2*plane:]
	rgb = rgb[:3*plane]
	bands := max(1, min(par, h/8))
	forEach(bands, bands, func(b int) {
		for i := b * h / bands * w; i < (b+1)*h/bands*w; i++ {
			px := rgb[3*i : 3*i+3]
			bp[i] = px[2]*k[0] + c[0]
			gp[i] = px[1]*k[1] + c[1]
			rp[i] = px[0]*k[2] + c[2]
		}
	})
	return out
}

// detSize is the model input size for a w×h region at scale: multiples
// of 32, at least 32.
func detSize(w, h int, scale float64) (int, int) {
	r := func(v int) int { return max(32, int(math.Round(float64(v)*scale/32))*32) }
	return r(w), r(h)
}

// region is one detected text region in design pixels.
type region struct {
	// line runs along the text in reading direction (two points for a
	// straight line, more when it curves); half is half the text height.
	line []pt
	half float64
	// score is the mean probability inside the box (DB's box score).
	score  float64
	curved bool
	// glyphs, for a short word on a tight arc (tightArcs), are its
	// letters' upright crops, read side by side instead of unrolling
	// line; line still outlines the word.
	glyphs []glyphCrop
}

// outline is the region's polygon: the top edge then the bottom edge back.
func (r region) outline() []pt {
	tops := make([]pt, len(r.line))
	bots := make([]pt, len(r.line))
	for i := range r.line {
		n := normalAt(r.line, i)
		tops[i] = r.line[i].add(n.mul(r.half))
		bots[len(r.line)-1-i] = r.line[i].sub(n.mul(r.half))
	}
	return append(tops, bots...)
}

func (r region) bounds() bounds { return boundsOf(r.outline()) }

// normalAt is the "up" normal of a polyline at vertex i: the tangent
// turned so that text read along the line stands upright.
func normalAt(line []pt, i int) pt {
	t := tangentAt(line, i)
	return pt{t.Y, -t.X}
}

func tangentAt(line []pt, i int) pt {
	a, b := max(i-1, 0), min(i+1, len(line)-1)
	return line[b].sub(line[a]).unit()
}

// dbParams are the DB post-processing thresholds.
type dbParams struct {
	binThresh, boxThresh, unclip float64
}

// dbRegions runs DB post-processing over a probability map of w×h: it
// binarises at binThresh, finds connected regions (the outer contours of
// PaddleOCR's cv2.findContours), takes each one's minimum-area rectangle,
// drops those shorter than 3 px or whose mean probability is below
// boxThresh, and expands ("unclips") by area×ratio/perimeter. Unlike
// PaddleOCR it also follows regions that curve (arched text): their line
// is the centre line of the region's slices. Points are scaled by sx, sy
// and offset by off into design pixels.
func dbRegions(prob []float32, w, h int, p dbParams, sx, sy float64, off image.Point) []region {
	comps := components(prob, w, h, float32(p.binThresh))
	if len(comps) > maxCandidates {
		comps = comps[:maxCandidates]
	}
	var out []region
	for _, c := range comps {
		rr, ok := regionOf(prob, w, h, c, p)
		if !ok {
			continue
		}
		for i := range rr.line {
			rr.line[i] = pt{rr.line[i].X*sx + float64(off.X), rr.line[i].Y*sy + float64(off.Y)}
		}
		rr.half *= (sx + sy) / 2
		out = append(out, rr)
	}
	return out
}

// component is one 8-connected set of foreground pixels: per row, its
// leftmost and rightmost pixel; and every pixel for curved regions.
type component struct {
	pix   []int32    // y*w+x of every pixel
	rows  [][3]int32 // y, leftmost x, rightmost x of every row it touches
	count int
}

// components labels the 8-connected foreground regions of prob > t,
// largest first (cv2.findContours order is not meaningful either).
func components(prob []float32, w, h int, t float32) []component {
	label := make([]bool, w*h)
	var out []component
	stack := make([]int32, 0, 1024)
	// Per row of the current component: its extent, and which rows it
	// touched (reset after each component).
	lo := make([]int32, h)
	hi := make([]int32, h)
	for i := range lo {
		lo[i] = -1
	}
	var touched []int32
	for i := range prob {
		if prob[i] <= t || label[i] {
			continue
		}
		var c component
		label[i] = true
		stack = append(stack[:0], int32(i))
		touched = touched[:0]
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			c.pix = append(c.pix, k)
			x, y := k%int32(w), k/int32(w)
			if lo[y] < 0 {
				lo[y], hi[y] = x, x
				touched = append(touched, y)
			} else {
				lo[y], hi[y] = min(lo[y], x), max(hi[y], x)
			}
			for dy := int32(-1); dy <= 1; dy++ {
				ny := y + dy
				if ny < 0 || ny >= int32(h) {
					continue
				}
				for dx := int32(-1); dx <= 1; dx++ {
					nx := x + dx
					if nx < 0 || nx >= int32(w) || (dx == 0 && dy == 0) {
						continue
					}
					j := ny*int32(w) + nx
					if !label[j] && prob[j] > t {
						label[j] = true
						stack = append(stack, j)
					}
				}
			}
		}
		c.rows = make([][3]int32, len(touched))
		for k, y := range touched {
			c.rows[k] = [3]int32{y, lo[y], hi[y]}
			lo[y] = -1
		}
		c.count = len(c.pix)
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].count > out[j].count })
	return out
}

// boxScore is the mean probability inside the convex polygon poly
// (PaddleOCR's box_score_fast).
func boxScore(prob []float32, w, h int, poly []pt) float64 {
	b := boundsOf(poly)
	x0, x1 := clampi(int(math.Floor(b.X0)), 0, w-1), clampi(int(math.Ceil(b.X1)), 0, w-1)
	y0, y1 := clampi(int(math.Floor(b.Y0)), 0, h-1), clampi(int(math.Ceil(b.Y1)), 0, h-1)
	var sum float64
	var n int
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if inConvex(poly, pt{float64(x), float64(y)}) {
				sum += float64(prob[y*w+x])
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func clampi(v, lo, hi int) int { return min(max(v, lo), hi) }

// regionOf turns one component into a region (in probability-map pixels).
func regionOf(prob []float32, w, h int, c component, p dbParams) (region, bool) {
	hullPts := make([]pt, 0, 2*len(c.rows))
	for _, r := range c.rows {
		hullPts = append(hullPts, pt{float64(r[1]), float64(r[0])}, pt{float64(r[2]), float64(r[0])})
	}
	rect := minAreaRect(hullPts)
	if rect.short() < minSize {
		return region{}, false
	}
	corners := rect.corners()
	// Unclip distance as PaddleOCR: area × ratio / perimeter of the box.
	d := polyArea(corners[:]) * p.unclip / polyPerimeter(corners[:])
	if rect.short()+2*d < minSize+2 {
		return region{}, false
	}
	// Reading axis: the side nearer horizontal, unless the box is at
	// least 1.5 times taller along the other (PaddleOCR rotates such crops).
	a, ea, eb := rect.U, rect.W, rect.H
	if math.Abs(rect.V.X) > math.Abs(rect.U.X) {
		a, ea, eb = rect.V, rect.H, rect.W
	}
	if eb >= 1.5*ea {
		a, ea, eb = pt{-a.Y, a.X}, eb, ea
	}
	if a.X < -1e-9 || (math.Abs(a.X) <= 1e-9 && a.Y < 0) {
		a = a.mul(-1)
	}
	n := pt{a.Y, -a.X}
	fill := float64(c.count) / ((ea + 1) * (eb + 1))
	if ea >= 1.8*eb && eb >= 6 {
		if r, ok := curvedRegion(c, w, rect.C, a, n, p.unclip); ok && (fill < 0.6 || turning(r.line) >= minTurn) {
			// The box of an arc is mostly background: score the region
			// itself (PaddleOCR's box_score_slow scores the contour).
			var sum float64
			for _, k := range c.pix {
				sum += float64(prob[k])
			}
			r.score = sum / float64(c.count)
			if r.score < p.boxThresh {
				return region{}, false
			}
			return r, true
		}
	}
	score := boxScore(prob, w, h, corners[:])
	if score < p.boxThresh {
		return region{}, false
	}
	ext := a.mul(ea/2 + d)
	return region{line: []pt{rect.C.sub(ext), rect.C.add(ext)}, half: eb/2 + d, score: score}, true
}

// minTurn is how far (radians) the centre line of a region that fills
// its box (fill ≥ 0.6) must turn from end to end to be followed as an
// arc: a short word on a tight arc (a code such as "14 WORDS" set over
// 60–140° of a small circle) is a thick band that fills most of its box,
// yet its letters lean by tens of degrees either way, and its straight
// crop reads as nonsense ("AWOHS"). The slices' centres of such a band
// turn by much less than the arc itself (a leaning letter reaches up and
// down), so the threshold is low; a straight line turns by a few degrees
// at most.
const minTurn = 15 * math.Pi / 180

// turning is the angle between a polyline's first and last tangent.
func turning(line []pt) float64 {
	t0, t1 := tangentAt(line, 0), tangentAt(line, len(line)-1)
	return math.Acos(math.Max(-1, math.Min(1, t0.dot(t1))))
}

// curvedRegion follows an arched component: it cuts the component into
// slices across the reading axis a, takes each slice's centre, smooths the
// centres into a centre line and measures the text height perpendicular to
// it. It fails (straight box instead) when the component does not look
// like one curved line.
func curvedRegion(c component, w int, centre, a, n pt, unclip float64) (region, bool) {
	type acc struct {
		lo, hi float64
		n      int
	}
	umin, umax := math.Inf(1), math.Inf(-1)
	us := make([]float64, len(c.pix))
	vs := make([]float64, len(c.pix))
	for i, k := range c.pix {
		q := pt{float64(int(k) % w), float64(int(k) / w)}.sub(centre)
		us[i], vs[i] = q.dot(a), q.dot(n)
		umin, umax = math.Min(umin, us[i]), math.Max(umax, us[i])
	}
	length := umax - umin + 1
	estH := float64(c.count) / length
	binW := math.Max(2, estH/2)
	nb := clampi(int(math.Round(length/binW)), 4, 96)
	binW = length / float64(nb)
	bins := make([]acc, nb)
	for i := range bins {
		bins[i] = acc{lo: math.Inf(1), hi: math.Inf(-1)}
	}
	for i := range us {
		b := clampi(int((us[i]-umin)/binW), 0, nb-1)
		bins[b].lo = math.Min(bins[b].lo, vs[i])
		bins[b].hi = math.Max(bins[b].hi, vs[i])
		bins[b].n++
	}
	var cu, cv, thick []float64
	for i, b := range bins {
		if b.n == 0 {
			continue
		}
		cu = append(cu, umin+(float64(i)+0.5)*binW)
		cv = append(cv, (b.lo+b.hi)/2)
		thick = append(thick, b.hi-b.lo+1)
	}
	if len(cu) < 4 {
		return region{}, false
	}
	// Smooth the centres ([1 2 1], twice).
	for pass := 0; pass < 2; pass++ {
		s := append([]float64(nil), cv...)
		for i := 1; i < len(cv)-1; i++ {
			s[i] = (cv[i-1] + 2*cv[i] + cv[i+1]) / 4
		}
		cv = s
	}
	// Height perpendicular to the line: slice height × cos(slope).
	perp := make([]float64, len(cu))
	for i := range cu {
		j0, j1 := max(i-1, 0), min(i+1, len(cu)-1)
		slope := (cv[j1] - cv[j0]) / math.Max(cu[j1]-cu[j0], 1e-9)
		perp[i] = thick[i] / math.Sqrt(1+slope*slope)
	}
	sort.Float64s(perp)
	h := perp[len(perp)/2]
	if h <= 0 {
		return region{}, false
	}
	// The end slices cut the band obliquely where an arc is steep, and
	// their centres lean inwards: drop them; the line is extended over
	// them below.
	if len(cu) >= 6 {
		cu, cv = cu[1:len(cu)-1], cv[1:len(cv)-1]
	}
	line := make([]pt, 0, len(cu)+2)
	for i := range cu {
		line = append(line, centre.add(a.mul(cu[i])).add(n.mul(cv[i])))
	}
	// Unclip as PaddleOCR does, but for the curved band (area over
	// perimeter of the band, not of its much taller bounding box).
	arc := 0.0
	for i := 1; i < len(line); i++ {
		arc += line[i].dist(line[i-1])
	}
	t0, t1 := tangentAt(line, 0), tangentAt(line, len(line)-1)
	// Reach the component's ends: the distance along the axis to umin and
	// umax, along the end tangents.
	ext0 := (cu[0] - umin) / math.Max(0.3, t0.dot(a))
	ext1 := (umax - cu[len(cu)-1]) / math.Max(0.3, t1.dot(a))
	arc += ext0 + ext1
	dc := float64(c.count) * unclip / (2*arc + 2*h)
	line = append([]pt{line[0].sub(t0.mul(ext0 + dc))}, line...)
	line = append(line, line[len(line)-1].add(t1.mul(ext1+dc)))
	return region{line: line, half: h/2 + dc, curved: true}, true
}
